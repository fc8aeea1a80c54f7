// The cookbook's stream processor, in Node.js: log each event, count the thing-created ones.
// Runs unchanged on AWS Lambda (nodejs20.x) and on the embedded local AWS (the machine's node).
const ms = require("ms"); // an npm dependency, installed into this folder (npm ci)

let thingsCreated = 0; // per execution environment, kept while it stays warm

exports.handler = async (event) => {
  for (const record of event.Records) {
    const envelope = JSON.parse(Buffer.from(record.kinesis.data, "base64").toString("utf8"));
    const age = ms(Math.max(0, Date.now() - envelope.timestamp));
    console.log("event", JSON.stringify({ id: envelope.id, type: envelope.type, age }));
    if (envelope.type === "thing-created") thingsCreated += 1;
  }
  console.log("thing-created so far", thingsCreated);
  return { batchItemFailures: [] };
};
