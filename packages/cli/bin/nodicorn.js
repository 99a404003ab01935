#!/usr/bin/env node
// Committed shim so pnpm can link the `nodicorn` bin before the first build.
import '../dist/bin.js';
