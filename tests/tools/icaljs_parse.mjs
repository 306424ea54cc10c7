// Parse iCalendar objects with Mozilla's ical.js (Thunderbird's parser) and print, as
// JSON, what a client would see: METHOD, and per VEVENT the UID, SEQUENCE, STATUS,
// DTSTAMP and the real start/end instants (UTC ISO) after registering the object's
// own VTIMEZONEs.
//
//   node icaljs_parse.mjs            one object on stdin; prints one result.
//                                    ICAL.parse throws on malformed text: exit 1.
//   node icaljs_parse.mjs --batch    stdin is a JSON list of objects (strings); prints a
//                                    JSON list with one result per object, or
//                                    {"error": "..."} for one ical.js cannot parse.
//                                    One node start-up for many objects.
//
// The zone registry is emptied before each object, so one object's VTIMEZONE never
// resolves another's TZID. A TZID with no registered VTIMEZONE leaves a floating time:
// start_tzid then says "floating" (and the instant depends on node's own TZ).
import ICAL from "ical.js";

// A zone expands its rules from 1970 on first use: reuse the expanded zone for an
// identical VTIMEZONE text (same definition, same answers) instead of redoing it.
const zonesByText = new Map();

function zoneFor(vtimezone) {
  const key = vtimezone.toString();
  if (!zonesByText.has(key)) zonesByText.set(key, new ICAL.Timezone(vtimezone));
  return zonesByText.get(key);
}

function describe(text) {
  ICAL.TimezoneService.reset();
  const component = new ICAL.Component(ICAL.parse(text));
  for (const vtimezone of component.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(zoneFor(vtimezone));
  }
  const events = component.getAllSubcomponents("vevent").map((vevent) => {
    const event = new ICAL.Event(vevent);
    const dtstamp = vevent.getFirstPropertyValue("dtstamp");
    return {
      uid: event.uid,
      sequence: event.sequence,
      status: vevent.getFirstPropertyValue("status"),
      summary: event.summary,
      dtstamp: dtstamp ? dtstamp.toJSDate().toISOString() : null,
      start: event.startDate.toJSDate().toISOString(),
      end: event.endDate.toJSDate().toISOString(),
      start_is_date: event.startDate.isDate,
      start_tzid: event.startDate.zone ? event.startDate.zone.tzid : null,
      end_tzid: event.endDate.zone ? event.endDate.zone.tzid : null,
    };
  });
  return {
    method: component.getFirstPropertyValue("method"),
    timezones: component.getAllSubcomponents("vtimezone").length,
    events,
  };
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = Buffer.concat(chunks).toString("utf8");

if (process.argv.includes("--batch")) {
  const results = JSON.parse(input).map((text) => {
    try {
      return describe(text);
    } catch (error) {
      return { error: `ical.js: ${error.message}` };
    }
  });
  process.stdout.write(JSON.stringify(results));
} else {
  try {
    process.stdout.write(JSON.stringify(describe(input)));
  } catch (error) {
    process.stderr.write(`ical.js: ${error.message}\n`);
    process.exit(1);
  }
}
