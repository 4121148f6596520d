/**
 * "Post events": paste JSON or NDJSON, send it to `POST /v1/events`, see how many events were read and which
 * detections they raised. Only rendered for roles with `events_ingest`.
 */
import { useId, useState } from "react";
import { Link } from "react-router";
import { Button, Field, ProblemMessage, Textarea } from "../../components";
import { LevelBadge } from "./badges";
import { eventsPayload } from "./events";
import { useIngest } from "./queries";

const SAMPLE = '{"EventID": 4688, "Image": "C:\\\\Windows\\\\System32\\\\whoami.exe", "CommandLine": "whoami /all"}';

export function IngestPanel() {
  const [text, setText] = useState("");
  const [flush, setFlush] = useState(false);
  const [localError, setLocalError] = useState<string | null>(null);
  const ingest = useIngest();
  const flushId = useId();
  const resultId = useId();

  const submit = () => {
    const payload = eventsPayload(text);
    if ("error" in payload) {
      setLocalError(payload.error);
      return;
    }
    setLocalError(null);
    ingest.mutate({ body: payload.body, contentType: payload.contentType, flush });
  };

  const report = ingest.data;
  return (
    <section aria-labelledby={`${resultId}-h`} className="rounded-lg border border-slate-200 p-4 dark:border-slate-800">
      <h2 id={`${resultId}-h`} className="mb-3 text-base font-semibold">
        Post events
      </h2>
      <form
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <Field
          label="Events (JSON or NDJSON)"
          hint="A JSON object, an array of objects, or one object per line. Windows event log, Sysmon and ECS fields are understood."
          error={localError}
        >
          {(p) => (
            <Textarea
              {...p}
              rows={6}
              spellCheck={false}
              className="font-mono text-xs"
              placeholder={SAMPLE}
              value={text}
              onChange={(e) => setText(e.target.value)}
            />
          )}
        </Field>
        <div className="flex flex-wrap items-center justify-between gap-3">
          <div className="flex items-center gap-2">
            <input
              id={flushId}
              type="checkbox"
              className="size-4 rounded border-slate-300 focus-visible:outline-2 focus-visible:outline-indigo-500"
              checked={flush}
              onChange={(e) => setFlush(e.target.checked)}
            />
            <label htmlFor={flushId} className="text-sm">
              Flush correlation windows (end of a historical upload)
            </label>
          </div>
          <Button type="submit" variant="primary" icon="send" loading={ingest.isPending}>
            Post events
          </Button>
        </div>
      </form>
      <div aria-live="polite" id={resultId} className="mt-3 empty:hidden">
        {ingest.error && <ProblemMessage error={ingest.error} />}
        {report && (
          <div className="rounded-md border border-emerald-200 bg-emerald-50 p-3 text-sm text-emerald-900 dark:border-emerald-900 dark:bg-emerald-950/50 dark:text-emerald-100">
            <p>
              Read {report.events} {report.events === 1 ? "event" : "events"}; {report.detections.length}{" "}
              {report.detections.length === 1 ? "detection" : "detections"} raised.
            </p>
            {report.detections.length > 0 && (
              <ul className="mt-2 space-y-1">
                {report.detections.slice(0, 20).map((d) => (
                  <li key={d.id} className="flex items-center gap-2">
                    <LevelBadge level={d.level} />
                    <Link to={`/detections/${d.id}`} className="underline underline-offset-2 hover:no-underline">
                      {d.title}
                    </Link>
                  </li>
                ))}
                {report.detections.length > 20 && <li>… and {report.detections.length - 20} more in the queue.</li>}
              </ul>
            )}
          </div>
        )}
      </div>
    </section>
  );
}
