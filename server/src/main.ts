// Process entry of the language server. createConnection reads the transport from argv (--stdio, --node-ipc,
// --socket=N), so `node dist/server.js --stdio` serves any LSP editor and VS Code uses IPC.
import { createConnection, ProposedFeatures } from "vscode-languageserver/node";
import { homedir } from "node:os";
import { engineFactory } from "./features/checkerFactory";
import { describeError } from "./features/errors";
import { createServer, systemClock } from "./server";
import { nodeFileSystem } from "./workspace/fileSystem";

const connection = createConnection(ProposedFeatures.all);
createServer(connection, { fs: nodeFileSystem, createChecker: engineFactory({ env: process.env, homeDir: homedir() }), clock: systemClock });

// Last resort: a bug in a handler that escaped its guard is logged, and the server keeps serving.
process.on("uncaughtException", (error) => connection.console.error(`Uncaught: ${describeError(error)}`));
process.on("unhandledRejection", (reason) => connection.console.error(`Unhandled rejection: ${describeError(reason)}`));

connection.listen();
