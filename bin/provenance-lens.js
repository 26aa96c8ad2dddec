#!/usr/bin/env node
// The CLI is bundled by `npm run build` into dist/cli.js.
require("../dist/cli.js");
