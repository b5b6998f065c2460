import Foundation
import GroveModel

/// One row of the documents table: a record's JSON with the keys it is found by.
public struct StoredDocument: Sendable, Equatable {
    public var kind: String
    public var id: String
    public var parent: String
    public var ref: String
    public var createdAt: String
    public var data: String

    init?(row: SQLRow) {
        guard let kind = row["kind"]?.string, let id = row["id"]?.string, let data = row["data"]?.string else { return nil }
        self.kind = kind; self.id = id; self.data = data
        parent = row["parent"]?.string ?? ""
        ref = row["ref"]?.string ?? ""
        createdAt = row["created_at"]?.string ?? ""
    }

    init<T: DocumentRecord>(_ record: T) throws {
        kind = T.kind; id = record.documentId; parent = record.documentParent; ref = record.documentRef; createdAt = record.createdAt
        data = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
    }

    func decode<T: DocumentRecord>(_ type: T.Type) throws -> T { try JSONValueDecoder.decode(T.self, from: data.utf8) }
}

/// Typed access to the documents table.
extension Store {
    public func insert<T: DocumentRecord>(_ record: T) async throws { try await insertDocument(try StoredDocument(record)) }
    public func put<T: DocumentRecord>(_ record: T) async throws { try await putDocument(try StoredDocument(record)) }
    public func delete<T: DocumentRecord>(_ type: T.Type, id: String) async throws { try await deleteDocument(kind: T.kind, id: id) }
    public func get<T: DocumentRecord>(_ type: T.Type, id: String) async throws -> T? {
        try await document(kind: T.kind, id: id)?.decode(T.self)
    }
    public func list<T: DocumentRecord>(_ type: T.Type, parent: String? = nil, ref: String? = nil) async throws -> [T] {
        try await documents(kind: T.kind, parent: parent, ref: ref).map { try $0.decode(T.self) }
    }
}
