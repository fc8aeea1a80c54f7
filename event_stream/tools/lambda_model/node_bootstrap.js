// An execution environment for one Node.js Lambda function: the Node.js runtime's part, here.
//
// Started by `runner.Worker` with the machine's `node`, in the unpacked deployment zip
// (LAMBDA_TASK_ROOT): `node node_bootstrap.js MODULE.FUNCTION FUNCTION_NAME FUNCTION_ARN`.
// It speaks the Python bootstrap's line protocol: each stdin line is one invocation,
// {"event", "requestId"}; each answer is one stdout line, {"result"} or Lambda's error shape
// {"errorType", "errorMessage", "trace"}, with "logs": the lines the invocation wrote.
//
// As the Lambda Node.js runtime does ("Define Lambda function handler in Node.js",
// "Log and monitor Node.js Lambda functions"): the handler module is found in the task root
// as .js, .mjs or .cjs, CommonJS or an ES module ("type": "module"), and loaded once; a
// handler may return a promise, take a callback, or call context.succeed / fail / done; a
// non-async handler that never calls back answers null. console output becomes log lines in
// the function's log format: Text ("<time>\t<request id>\t<LEVEL>\t<message>") or JSON (with
// log-level filtering). Uses nothing but Node itself.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const readline = require("node:readline");
const util = require("node:util");
const { pathToFileURL } = require("node:url");

const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
const [handlerSpec, functionName, functionArn] = process.argv.slice(2);
const timeoutSeconds = Number(process.env.AWS_LAMBDA_FUNCTION_TIMEOUT || "3");
const jsonLogs = (process.env.AWS_LAMBDA_LOG_FORMAT || "Text").toUpperCase() === "JSON";
const minimumLevel = LEVELS.indexOf((process.env.AWS_LAMBDA_LOG_LEVEL || "INFO").toUpperCase());
const writeAnswer = process.stdout.write.bind(process.stdout);

let requestId = "";
let captured = [];

function logLine(level, text) {
  const timestamp = new Date().toISOString();
  if (!jsonLogs) {
    captured.push(`${timestamp}\t${requestId}\t${level}\t${text}`);
  } else if (LEVELS.indexOf(level) >= minimumLevel) {
    captured.push(JSON.stringify({ timestamp, level, requestId, message: text }));
  }
}

// console.* and bare stdout writes are the function's logs, as Lambda captures them.
for (const [method, level] of [
  ["log", "INFO"],
  ["info", "INFO"],
  ["warn", "WARN"],
  ["error", "ERROR"],
  ["debug", "DEBUG"],
  ["trace", "TRACE"],
]) {
  console[method] = (...args) => logLine(level, util.format(...args));
}
process.stdout.write = (chunk) => {
  for (const line of String(chunk).split("\n")) if (line.trim()) captured.push(line);
  return true;
};

function moduleFile(modulePath) {
  for (const extension of [".js", ".mjs", ".cjs"]) {
    const file = path.resolve(taskRoot, modulePath + extension);
    if (fs.existsSync(file)) return file;
  }
  const error = new Error(`Cannot find module '${modulePath}'`);
  error.name = "Runtime.ImportModuleError";
  throw error;
}

async function loadHandler() {
  const at = handlerSpec.lastIndexOf(".");
  const modulePath = handlerSpec.slice(0, at);
  const name = handlerSpec.slice(at + 1);
  // import() loads both module kinds; a CommonJS module's exports are its default.
  const loaded = await import(pathToFileURL(moduleFile(modulePath)).href);
  const handler = loaded[name] ?? loaded.default?.[name];
  if (typeof handler !== "function") {
    const error = new Error(`${modulePath}.${name} is undefined or not exported`);
    error.name = "Runtime.HandlerNotFound";
    throw error;
  }
  return handler;
}

function context(id, settle) {
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: functionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE || "128",
    awsRequestId: id,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    succeed: (result) => settle(null, result),
    fail: (error) => settle(error ?? new Error("handled"), undefined),
    done: (error, result) => settle(error, result),
  };
}

function invoke(handler, event, id) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error, result) => {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve(result === undefined ? null : result);
    };
    const returned = handler(event, context(id, settle), settle);
    if (returned && typeof returned.then === "function") {
      returned.then((result) => settle(null, result), (error) => settle(error));
    } else if (handler.length < 3) {
      settle(null, null); // no promise and no callback: Lambda answers null
    }
  });
}

function errorShape(error) {
  if (!(error instanceof Error)) {
    return { errorType: "Error", errorMessage: String(error), trace: [] };
  }
  const errorType = error.name && error.name !== "Error" ? error.name : error.constructor.name;
  return {
    errorType,
    errorMessage: error.message,
    trace: String(error.stack || "").split("\n"),
  };
}

async function main() {
  let handler = null;
  const requests = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of requests) {
    if (!line.trim()) continue;
    const request = JSON.parse(line);
    requestId = request.requestId;
    let answer;
    try {
      if (handler === null) handler = await loadHandler(); // the init phase, paid once
      answer = { result: await invoke(handler, request.event, request.requestId) };
    } catch (error) {
      answer = errorShape(error);
      const message = `${answer.errorType}: ${answer.errorMessage}`;
      logLine("ERROR", `Invoke Error \t${JSON.stringify({ ...answer, message })}`);
    }
    answer.logs = captured;
    captured = [];
    writeAnswer(`${JSON.stringify(answer)}\n`);
  }
}

main();
