/** Thumbs up/down with an optional comment (POST /v1/feedback) on an answer. */
import { useState } from "react";
import { Button, Dialog, ErrorState, Field, IconButton, Textarea, toast } from "../../components";
import { useSendFeedback } from "./queries";

export function Feedback({ target, targetId }: { target: "message" | "run"; targetId: string }) {
  const [rating, setRating] = useState<1 | -1 | null>(null);
  const [sent, setSent] = useState<1 | -1 | null>(null);
  const [comment, setComment] = useState("");
  const send = useSendFeedback();
  const open = rating !== null;
  const close = () => {
    setRating(null);
    send.reset();
  };
  return (
    <div className="flex items-center gap-0.5" role="group" aria-label="Feedback on this answer">
      <IconButton
        icon="thumbUp"
        label="Good answer"
        size="sm"
        aria-pressed={sent === 1}
        className={sent === 1 ? "text-emerald-600" : undefined}
        onClick={() => setRating(1)}
      />
      <IconButton
        icon="thumbDown"
        label="Bad answer"
        size="sm"
        aria-pressed={sent === -1}
        className={sent === -1 ? "text-red-600" : undefined}
        onClick={() => setRating(-1)}
      />
      <Dialog
        open={open}
        onOpenChange={(o) => !o && close()}
        title={rating === 1 ? "What was good?" : "What went wrong?"}
        description="Optional. Your feedback helps tune the agent."
        footer={
          <>
            <Button onClick={close}>Cancel</Button>
            <Button
              variant="primary"
              loading={send.isPending}
              onClick={() => {
                if (rating === null) return;
                send.mutate(
                  { target, target_id: targetId, rating, comment: comment.trim() },
                  {
                    onSuccess: () => {
                      setSent(rating);
                      setComment("");
                      close();
                      toast.success("Thanks for the feedback.");
                    },
                  },
                );
              }}
            >
              Send feedback
            </Button>
          </>
        }
      >
        <Field label="Comment">
          {(p) => <Textarea {...p} rows={4} value={comment} onChange={(e) => setComment(e.target.value)} maxLength={4000} />}
        </Field>
        {send.error && <div className="mt-3"><ErrorState error={send.error} compact /></div>}
      </Dialog>
    </div>
  );
}
