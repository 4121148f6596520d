/** "New chat": pick an agent (GET /v1/agents), optionally a title, create, and open it. */
import { useState, type SubmitEvent } from "react";
import { useNavigate } from "react-router";
import { Button, Dialog, ErrorState, Field, Input, Select, Skeleton } from "../../components";
import { useAgents, useCreateChat } from "./queries";

export function NewChatDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (o: boolean) => void }) {
  const agents = useAgents(open);
  const create = useCreateChat();
  const navigate = useNavigate();
  const [agentId, setAgentId] = useState("");
  const [title, setTitle] = useState("");
  const enabled = agents.data?.items.filter((a) => a.enabled) ?? [];
  const chosen = agentId || enabled[0]?.id || "";
  const selected = enabled.find((a) => a.id === chosen);

  const onSubmit = (e: SubmitEvent) => {
    e.preventDefault();
    if (!chosen) return;
    create.mutate(
      { agent_id: chosen, ...(title.trim() ? { title: title.trim() } : {}) },
      {
        onSuccess: (chat) => {
          onOpenChange(false);
          setTitle("");
          create.reset();
          void navigate(`/chat/${chat.id}`);
        },
      },
    );
  };

  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title="New chat"
      description="Choose the agent that answers."
      footer={
        <>
          <Button onClick={() => onOpenChange(false)}>Cancel</Button>
          <Button type="submit" form="new-chat-form" variant="primary" loading={create.isPending} disabled={!chosen}>
            Start chat
          </Button>
        </>
      }
    >
      <form id="new-chat-form" onSubmit={onSubmit} className="space-y-4">
        {agents.isPending ? (
          <Skeleton className="h-16 w-full" />
        ) : agents.error ? (
          <ErrorState error={agents.error} compact onRetry={() => void agents.refetch()} />
        ) : enabled.length === 0 ? (
          <p className="text-sm text-slate-600 dark:text-slate-400">
            There is no enabled agent yet. Create one on the Agents page first.
          </p>
        ) : (
          <Field label="Agent" hint={selected?.description || undefined} required>
            {(p) => (
              <Select {...p} value={chosen} onChange={(e) => setAgentId(e.target.value)}>
                {enabled.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
        )}
        <Field label="Title" hint="Optional, e.g. the alert or ticket number.">
          {(p) => <Input {...p} value={title} maxLength={120} onChange={(e) => setTitle(e.target.value)} />}
        </Field>
        {create.error && <ErrorState error={create.error} compact />}
      </form>
    </Dialog>
  );
}
