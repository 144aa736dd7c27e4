// The open documents, shared by every feature. The stock TextDocuments manager keeps the text; its
// `update` hook also receives the raw ranged changes, which is exactly what an incremental parse
// needs, so this wrapper passes them on to whoever listens (the blocks feature).
import type { Connection, Disposable, TextDocumentContentChangeEvent } from 'vscode-languageserver/node';
import { TextDocuments } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';

export interface OpenEvent {
  uri: string;
  languageId: string;
  text: string;
}
export interface EditEvent {
  uri: string;
  changes: TextDocumentContentChangeEvent[];
  /** The text after the changes. */
  text: string;
}

export class Documents {
  private readonly opened: ((e: OpenEvent) => void)[] = [];
  private readonly edited: ((e: EditEvent) => void)[] = [];
  readonly manager: TextDocuments<TextDocument>;

  constructor() {
    this.manager = new TextDocuments<TextDocument>({
      create: (uri, languageId, version, content) => {
        const doc = TextDocument.create(uri, languageId, version, content);
        for (const l of this.opened) l({ uri, languageId, text: content });
        return doc;
      },
      update: (doc, changes, version) => {
        const updated = TextDocument.update(doc, changes, version);
        if (this.edited.length) {
          const text = updated.getText();
          for (const l of this.edited) l({ uri: doc.uri, changes, text });
        }
        return updated;
      },
    });
  }

  /** A document was opened (before its content-change event). */
  onDidOpen(listener: (e: OpenEvent) => void): void {
    this.opened.push(listener);
  }

  /** A document changed, with the raw LSP changes (before its content-change event). */
  onDidEdit(listener: (e: EditEvent) => void): void {
    this.edited.push(listener);
  }

  get(uri: string): TextDocument | undefined {
    return this.manager.get(uri);
  }

  all(): TextDocument[] {
    return this.manager.all();
  }

  listen(connection: Connection): Disposable {
    return this.manager.listen(connection);
  }
}
