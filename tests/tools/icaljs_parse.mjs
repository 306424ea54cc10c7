// Parse an iCalendar object from stdin with Mozilla's ical.js (Thunderbird's parser)
// and print, as JSON, what a client would see: METHOD, and per VEVENT the UID,
// SEQUENCE, STATUS and the real start/end instants (UTC ISO) after registering
// the object's own VTIMEZONEs. ICAL.parse throws on malformed text: exit 1.
import ICAL from "ical.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const text = Buffer.concat(chunks).toString("utf8");

try {
  const component = new ICAL.Component(ICAL.parse(text));
  for (const vtimezone of component.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(new ICAL.Timezone(vtimezone));
  }
  const events = component.getAllSubcomponents("vevent").map((vevent) => {
    const event = new ICAL.Event(vevent);
    return {
      uid: event.uid,
      sequence: event.sequence,
      status: vevent.getFirstPropertyValue("status"),
      summary: event.summary,
      start: event.startDate.toJSDate().toISOString(),
      end: event.endDate.toJSDate().toISOString(),
      start_tzid: event.startDate.zone ? event.startDate.zone.tzid : null,
    };
  });
  process.stdout.write(JSON.stringify({
    method: component.getFirstPropertyValue("method"),
    timezones: component.getAllSubcomponents("vtimezone").length,
    events,
  }));
} catch (error) {
  process.stderr.write(`ical.js: ${error.message}\n`);
  process.exit(1);
}
