-- secops-rag's chunk index (`secops_store::knowledge`). Documents belong to a knowledge base; chunks keep the
-- chunker's stable id (in `id`), their knowledge base (copied from the document so the scans filter on the
-- chunk row itself), heading path, page, byte offsets, and the heading context keyword search matches together
-- with the text. Embeddings become optional: keyword-only knowledge bases have none. Documents stored through
-- the older documents API have no knowledge base and are never returned by it.
ALTER TABLE documents ADD COLUMN knowledge_base_id BLOB;
CREATE INDEX documents_knowledge_base ON documents (organization_id, knowledge_base_id);

-- SQLite cannot drop NOT NULL in place: rebuild the table (nothing references it), then the FTS5 index over
-- the heading context and the text.
DROP TRIGGER chunks_fts_insert;
DROP TRIGGER chunks_fts_delete;
DROP TRIGGER chunks_fts_update;
DROP TABLE chunks_fts;

CREATE TABLE chunks_new (
    id BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    document_id BLOB NOT NULL,
    knowledge_base_id BLOB,
    ordinal INTEGER NOT NULL,
    text TEXT NOT NULL,
    context TEXT NOT NULL DEFAULT '',
    heading_path TEXT NOT NULL DEFAULT '[]',
    page INTEGER,
    start_offset INTEGER NOT NULL DEFAULT 0,
    end_offset INTEGER NOT NULL DEFAULT 0,
    metadata TEXT NOT NULL,
    dims INTEGER,
    embedding BLOB,
    created_at TEXT NOT NULL,
    CHECK ((dims IS NULL) = (embedding IS NULL)),
    FOREIGN KEY (organization_id, document_id) REFERENCES documents (organization_id, id) ON DELETE CASCADE
);
INSERT INTO chunks_new (rowid, id, organization_id, document_id, ordinal, text, metadata, dims, embedding, created_at)
    SELECT rowid, id, organization_id, document_id, ordinal, text, metadata, dims, embedding, created_at FROM chunks;
DROP TABLE chunks;
ALTER TABLE chunks_new RENAME TO chunks;
CREATE INDEX chunks_document ON chunks (organization_id, document_id, ordinal);
CREATE INDEX chunks_knowledge_base ON chunks (organization_id, knowledge_base_id, dims);

CREATE VIRTUAL TABLE chunks_fts USING fts5(context, text, content='chunks', content_rowid='rowid');
INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild');
CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, context, text) VALUES (new.rowid, new.context, new.text);
END;
CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, context, text) VALUES ('delete', old.rowid, old.context, old.text);
END;
CREATE TRIGGER chunks_fts_update AFTER UPDATE OF context, text ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, context, text) VALUES ('delete', old.rowid, old.context, old.text);
    INSERT INTO chunks_fts(rowid, context, text) VALUES (new.rowid, new.context, new.text);
END;
