-- secops-rag's chunk index (`secops_store::knowledge`). Documents belong to a knowledge base; chunks keep the
-- chunker's stable id (in `id`), their knowledge base (copied from the document so the vector and keyword
-- scans filter on the chunk row itself), heading path, page, byte offsets, and the heading context keyword
-- search matches together with the text. Embeddings become optional: keyword-only knowledge bases have none.
-- Documents stored through the older documents API have no knowledge base and are never returned by it.
ALTER TABLE documents ADD COLUMN knowledge_base_id uuid;
CREATE INDEX documents_knowledge_base ON documents (organization_id, knowledge_base_id);

ALTER TABLE chunks ADD COLUMN knowledge_base_id uuid;
ALTER TABLE chunks ADD COLUMN context text NOT NULL DEFAULT '';
ALTER TABLE chunks ADD COLUMN heading_path jsonb NOT NULL DEFAULT '[]';
ALTER TABLE chunks ADD COLUMN page integer;
ALTER TABLE chunks ADD COLUMN start_offset bigint NOT NULL DEFAULT 0;
ALTER TABLE chunks ADD COLUMN end_offset bigint NOT NULL DEFAULT 0;
ALTER TABLE chunks ALTER COLUMN dims DROP NOT NULL;
ALTER TABLE chunks ALTER COLUMN embedding DROP NOT NULL;
ALTER TABLE chunks ADD CONSTRAINT chunks_embedding_dims CHECK ((dims IS NULL) = (embedding IS NULL));
CREATE INDEX chunks_knowledge_base ON chunks (organization_id, knowledge_base_id);

-- Full text over the heading context and the text (drops and recreates the GIN index with the column).
ALTER TABLE chunks DROP COLUMN search;
ALTER TABLE chunks ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('english', context || ' ' || text)) STORED;
CREATE INDEX chunks_search ON chunks USING gin (search);
