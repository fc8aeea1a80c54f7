// The cookbook's stream processor, in Node.js: log each event, count the thing-created ones.
// Runs unchanged on AWS Lambda (nodejs20.x) and on the embedded local AWS (the machine's node).
const ms = require("ms"); // an npm dependency, installed into this folder (npm ci)

let thingsCreated = 0; // per execution environment, kept while it stays warm

// A record's envelope, or null when its data is not a JSON object: such a record is logged
// and skipped, as the Python consumer runtime does, so it never blocks the shard.
function envelopeOf(record) {
  try {
    const envelope = JSON.parse(Buffer.from(record.kinesis.data, "base64").toString("utf8"));
    return envelope !== null && typeof envelope === "object" ? envelope : null;
  } catch {
    return null;
  }
}

// How long ago the event happened ("2m"), or "unknown" without an epoch-ms timestamp:
// ms() throws on anything but a finite number.
function ageOf(envelope) {
  const { timestamp } = envelope;
  if (typeof timestamp !== "number" || !Number.isFinite(timestamp)) return "unknown";
  return ms(Math.max(0, Date.now() - timestamp));
}

exports.handler = async (event) => {
  for (const record of event.Records) {
    const envelope = envelopeOf(record);
    if (envelope === null) {
      console.log("skipped a record that is not a JSON object", record.kinesis.sequenceNumber);
      continue;
    }
    const { id, type } = envelope;
    console.log("event", JSON.stringify({ id, type, age: ageOf(envelope) }));
    if (envelope.type === "thing-created") thingsCreated += 1;
  }
  console.log("thing-created so far", thingsCreated);
  return { batchItemFailures: [] };
};
