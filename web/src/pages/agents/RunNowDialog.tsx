/** "Run now": start a run of the agent with an input (`POST /v1/agents/{id}/runs`), then open the run. */
import { useState, type SyntheticEvent } from "react";
import { useNavigate } from "react-router";
import { Button, Dialog, Field, ProblemMessage, Textarea, toast } from "../../components";
import { TEXT_LIMITS } from "./limits";
import { useStartRun } from "./queries";

const encoder = new TextEncoder();

export function RunNowDialog({
  agentId,
  agentName,
  open,
  onOpenChange,
}: {
  agentId: string;
  agentName: string;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const start = useStartRun(agentId);
  const navigate = useNavigate();
  const [input, setInput] = useState("");
  const [error, setError] = useState<string | null>(null);
  const bytes = encoder.encode(input).length;

  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    if (input.trim() === "") {
      setError("Say what the agent should do.");
      return;
    }
    if (bytes > TEXT_LIMITS.runInput.max) {
      setError(`At most ${TEXT_LIMITS.runInput.max.toLocaleString()} bytes (this is ${bytes.toLocaleString()}).`);
      return;
    }
    setError(null);
    start.mutate(input, {
      onSuccess: (run) => {
        toast.success(`Started a run of ${agentName}.`);
        onOpenChange(false);
        setInput("");
        void navigate(`/runs/${run.id}`);
      },
    });
  };

  return (
    <Dialog
      open={open}
      onOpenChange={(o) => {
        if (!o) start.reset();
        onOpenChange(o);
      }}
      title={`Run ${agentName} now`}
      description="The run starts at once; you will follow it on its page."
      className="max-w-2xl"
    >
      <form onSubmit={submit} noValidate className="space-y-4">
        {start.error && <ProblemMessage error={start.error} />}
        <Field
          label="Input"
          required
          error={error}
          hint={`What to do, e.g. the alert to triage. ${bytes.toLocaleString()} of ${TEXT_LIMITS.runInput.max.toLocaleString()} bytes.`}
        >
          {(p) => <Textarea {...p} rows={8} autoFocus value={input} onChange={(e) => setInput(e.target.value)} />}
        </Field>
        <div className="flex justify-end gap-2">
          <Button onClick={() => onOpenChange(false)}>Cancel</Button>
          <Button type="submit" variant="primary" icon="send" loading={start.isPending}>
            Start run
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
