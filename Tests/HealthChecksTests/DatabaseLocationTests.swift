import HealthChecks
import Testing

@Suite struct DatabaseLocationTests {
    @Test(arguments: [
        ("sqlite:///var/data/rag.db", DatabaseLocation.sqlite(path: "/var/data/rag.db")),
        ("sqlite:///rag.db", .sqlite(path: "/rag.db")),
        ("sqlite://data/rag.db", .sqlite(path: "data/rag.db")),
        ("sqlite:rag.db", .sqlite(path: "rag.db")),
        ("sqlite:./data/rag.db", .sqlite(path: "./data/rag.db")),
        ("sqlite:/abs/rag.db", .sqlite(path: "/abs/rag.db")),
        ("postgres://rag@localhost:5432/rag", .postgres(url: "postgres://rag@localhost:5432/rag")),
        ("postgresql://u:p@db.internal/rag?sslmode=require", .postgres(url: "postgresql://u:p@db.internal/rag?sslmode=require")),
    ])
    func parses(_ url: String, _ expected: DatabaseLocation) {
        #expect(DatabaseLocation.parse(url) == expected)
    }

    @Test(arguments: ["", "sqlite:", "sqlite://", "mysql://u@h/db", "file:///tmp/x.db", "/tmp/x.db", "rag.db", "postgres:/x", "http://x"])
    func rejects(_ url: String) {
        #expect(DatabaseLocation.parse(url) == nil)
    }
}
