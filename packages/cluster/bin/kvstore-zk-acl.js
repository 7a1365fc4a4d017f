#!/usr/bin/env node
"use strict";
require("../dist/src/zk-acl-main.js");
