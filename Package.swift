// swift-tools-version:6.2
import PackageDescription

/// The six handler executables. The product name is the `Handler:` of the SAM template
/// and the file name of the binary the emulator starts.
let functions: [(product: String, target: String, folder: String)] = [
    ("route", "RouteFunction", "Route"),
    ("upload", "UploadFunction", "Upload"),
    ("reembed", "ReembedFunction", "Reembed"),
    ("search", "SearchFunction", "Search"),
    ("generate", "GenerateFunction", "Generate"),
    ("health", "HealthFunction", "Health"),
]

/// What every handler uses: the runtime (handler protocol, transports).
let runtime: [Target.Dependency] = ["FunctionRuntime"]
/// The libraries each handler calls (handlers stay thin: decode, call, map errors). Exactly what
/// each imports: scripts/check-deps.py fails the test command otherwise.
let functionLibraries: [String: [Target.Dependency]] = [
    "health": ["HealthChecks", "JSON", "LambdaEvents"],
    "search": ["Retrieval", "FunctionServices", "ServiceErrors", "Embeddings", "Tenancy", "RequestTenancy", "LambdaEvents"],
    // No embedding library: upload never embeds, and its package carries neither BLAS nor the model.
    "upload": ["Documents", "Stores", "DocumentStore", "ServiceErrors", "LambdaEvents"],
    "route": ["IntentRouting", "FunctionServices", "ServiceErrors", "Embeddings", "Tenancy", "JSON", "LambdaEvents", "RequestTenancy"],
    "reembed": ["Indexing", "Documents", "FunctionServices", "ServiceErrors", "DocumentStore", "Embeddings", "Ingestion", "FunctionProtocol", "LambdaEvents"],
    "generate": ["Generation", "Retrieval", "FunctionServices", "ServiceErrors", "Embeddings", "Tenancy", "RequestTenancy",
                 "BearerTokens", "FunctionProtocol", "LambdaEvents"],
]

/// Symbols the static Swift runtime needs in a newer version than Amazon Linux 2023 has, each
/// sent to a forwarder to the older version (Runtime/CGlibcCompat/compat.c); infra/symbol-check.sh
/// fails a package that needs anything else too new.
let glibcCompatSymbols = ["hypot", "hypotf", "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE"]
let glibcCompatLinking: [LinkerSetting] = [
    .unsafeFlags(glibcCompatSymbols.flatMap { ["-Xlinker", "--wrap=\($0)"] }, .when(platforms: [.linux])),
]

let package = Package(
    name: "rag-functions",
    platforms: [.macOS(.v15)],
    products: functions.map { .executable(name: $0.product, targets: [$0.target]) } + [
        .executable(name: "emulator", targets: ["EmulatorCLI"]),
        .executable(name: "migrate", targets: ["MigrateTool"]),
        .executable(name: "fixture-fn", targets: ["FixtureFunction"]),
        .executable(name: "bench", targets: ["Bench"]),
        .executable(name: "store-bench", targets: ["StoreBench"]),
        .executable(name: "generate-bench", targets: ["GenerateBench"]),
        .executable(name: "embed", targets: ["Embed"]),
        .executable(name: "route-eval", targets: ["RouteEval"]),
        .executable(name: "search-eval", targets: ["SearchEval"]),
        .executable(name: "rag", targets: ["RagCLI"]),
        .library(name: "FunctionRuntime", targets: ["FunctionRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        // Hummingbird's request and response types, named directly by the tests' fake servers.
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // MARK: Runtime: protocol, events, transports. No dependency on any function.
        // libcurl's headers at build time; the library itself is loaded lazily (see shim.h).
        .systemLibrary(name: "CCurl", path: "Runtime/CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CStdio", path: "Runtime/CStdio"),
        .systemLibrary(name: "CSpawn", path: "Emulator/CSpawn"),
        // JSON values, the fast parser and writer, the duration helper: what every layer shares,
        // apart from anything Lambda- or HTTP-shaped.
        .target(name: "JSON", dependencies: [.product(name: "OrderedCollections", package: "swift-collections")], path: "Runtime/JSON"),
        .target(name: "LambdaEvents", dependencies: ["JSON"], path: "Runtime/LambdaEvents"),
        // Forwarders that keep the function executables within AL2023's glibc and libstdc++.
        .target(name: "CGlibcCompat", path: "Runtime/CGlibcCompat", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        // The route matcher the emulator and the handlers share (API Gateway's precedence).
        .target(name: "HTTPRouting", path: "Runtime/HTTPRouting"),
        // The tenant id, validated once at the edge (OrgID) and typed everywhere after.
        .target(name: "Tenancy", path: "Functions/Data/Tenancy"),
        // The request's tenant (`request.orgID()`): the org_id claim to an OrgID, 401/403 otherwise.
        .target(name: "RequestTenancy", dependencies: ["Tenancy", "LambdaEvents"], path: "Functions/Services/RequestTenancy"),
        // API Gateway's JWT authorizer as a library: the emulator's, and a function URL's own.
        .target(name: "BearerTokens", dependencies: ["JSON", "LambdaEvents", "HTTPClient", .product(name: "JWTKit", package: "jwt-kit")],
                path: "Functions/Services/BearerTokens"),
        // Outgoing HTTP (Runtime API, embedding and LLM providers) over libcurl.
        .target(name: "HTTPClient", dependencies: ["CCurl"], path: "Runtime/HTTPClient"),
        .target(name: "FunctionProtocol", dependencies: ["JSON"], path: "Runtime/FunctionProtocol"),
        // CloudWatch Embedded Metric Format records: what every function writes per invocation.
        .target(name: "EmbeddedMetrics", dependencies: ["JSON"], path: "Runtime/EmbeddedMetrics"),
        // Signature Version 4, for calling AWS APIs (Lambda Invoke) from a deployed function.
        .target(name: "AWSSigV4", dependencies: [.product(name: "Crypto", package: "swift-crypto")], path: "Runtime/AWSSigV4"),
        .target(
            name: "FunctionRuntime",
            dependencies: [
                "FunctionProtocol", "JSON", "LambdaEvents", "HTTPClient", "CStdio", "AWSSigV4", "HTTPRouting", "EmbeddedMetrics",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Runtime/FunctionRuntime"
        ),

        // MARK: Functions: shared domain libraries, then one thin executable per endpoint.
        .target(name: "HealthChecks", dependencies: ["JSON", "DocumentStore", "Documents", "Stores", "Embeddings", "EmbeddingPolicies", "IntentRouting", "Generation", .product(name: "Yams", package: "Yams")], path: "Functions/Services/HealthChecks"),
        // libpq (Debian libpq-dev) for Postgres: parameters always bound, never SQL built from strings.
        .systemLibrary(name: "CLibPQ", path: "Functions/Data/CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(name: "PostgresClient", dependencies: ["CLibPQ"], path: "Functions/Data/PostgresClient"),
        // Embeddings: the provider protocol and a native all-MiniLM-L6-v2 (OpenBLAS sgemm).
        .systemLibrary(name: "COpenBLAS", path: "Functions/ML/COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // The Q4_0 x Q8_0 kernels of multilingual-e5-small. Optimised in debug builds too (the tests
        // embed 254 texts: ~20x slower at -O0), and never with FMA contraction, which would break
        // the bit-exact agreement with e5.c's strict build (include/e5_kernels.h).
        .target(name: "CE5Kernels", path: "Functions/ML/CE5Kernels", cSettings: [.unsafeFlags(["-O2", "-ffp-contract=off"])]),
        // Personal data and secrets found before text leaves for an external provider (PII_POLICY).
        .target(name: "PrivacyGuard", path: "Functions/Services/PrivacyGuard"),
        // The model's providers as a pool (from EMBEDDING_PROVIDERS_FILE), their prices, and the
        // budgets' ledger in the store.
        .target(name: "EmbeddingPolicies", dependencies: ["DocumentStore", "Embeddings", "ConfigFiles", "PrivacyGuard", "Resilience"],
                path: "Functions/Services/EmbeddingPolicies"),
        // Rerankers over HTTP (Cohere, Jina, TEI, Voyage wire formats) for search's `rerank`.
        .target(name: "Reranking", dependencies: ["JSON", "HTTPClient", "Resilience"], path: "Functions/Answering/Reranking"),
        .target(name: "Embeddings", dependencies: ["JSON", "COpenBLAS", "CE5Kernels", "HTTPClient", "Resilience", "PrivacyGuard",
                                                  .product(name: "Crypto", package: "swift-crypto")], path: "Functions/ML/Embeddings"),
        // Retries with backoff and circuit breakers for remote providers (embeddings, LLMs).
        .target(name: "Resilience", path: "Functions/Services/Resilience"),
        // Lower-casing and Vietnamese diacritic folding shared by keyword search and routing.
        .target(name: "TextFolding", path: "Functions/ML/TextFolding"),
        // One language detector (Vietnamese or English) for routing and generation.
        .target(name: "LanguageDetection", dependencies: ["TextFolding"], path: "Functions/ML/LanguageDetection"),
        // Uploaded bytes to chunks: type sniffing, text extraction (pdftotext for PDF), chunking.
        .target(name: "Ingestion", dependencies: ["JSON", .product(name: "Crypto", package: "swift-crypto")], path: "Functions/Documents/Ingestion"),
        // Documents in: multipart parsing, the durable blob store, the upload service, the API's JSON.
        .target(name: "Documents", dependencies: ["RequestTenancy", "JSON", "DocumentStore", "ServiceErrors", "Ingestion", "LambdaEvents", "Tenancy", "AWSSigV4", "HTTPClient",
                                                 .product(name: "Crypto", package: "swift-crypto")], path: "Functions/Documents/Documents"),
        // The store and the embedding provider a retrieval function builds at init, checked against each other.
        .target(name: "FunctionServices", dependencies: ["DocumentStore", "Stores", "Embeddings", "ServiceErrors", "LambdaEvents", "RedisClient",
                                                        "EmbeddingPolicies", "JSON", "RequestTenancy", "Reranking"],
                path: "Functions/Services/FunctionServices"),
        // RESP over a socket, for the query-vector cache's Redis level (no Redis package in the mirror).
        .target(name: "RedisClient", path: "Functions/Data/RedisClient"),
        // Library errors to HTTP errors, in one place; startup errors.
        .target(name: "ServiceErrors", dependencies: ["DocumentStore", "Ingestion", "JSON", "LambdaEvents"], path: "Functions/Services/ServiceErrors"),
        // Hybrid retrieval: request validation, dense per model + keyword arms, RRF, grouping.
        .target(name: "Retrieval", dependencies: ["JSON", "DocumentStore", "Embeddings", "LanguageDetection", "Reranking"], path: "Functions/Answering/Retrieval"),
        // The worker's pipeline: a job to a ready version (extract, chunk, reuse, embed, flip), the
        // queue drain, the stale scan and the re-embed API.
        .target(
            name: "Indexing",
            dependencies: ["RequestTenancy", "JSON", "DocumentStore", "Documents", "Ingestion", "Embeddings", "LambdaEvents", "Tenancy",
                           .product(name: "Logging", package: "swift-log")],
            path: "Functions/Documents/Indexing"
        ),
        // Grounded answers: prompts, LLM providers over HTTP, the retry loop and fallback chain,
        // citations, confidence, redaction, the response cache.
        .target(
            name: "Generation",
            dependencies: [
                "JSON", "DocumentStore", "Retrieval", "HTTPClient", "Resilience", "TextFolding", "Ingestion", "LanguageDetection",
                "Tenancy", "ConfigFiles", "EmbeddedMetrics", "PrivacyGuard", .product(name: "Logging", package: "swift-log"),
            ],
            path: "Functions/Answering/Generation"
        ),
        // The intent router: catalog, rules, scoring, fusion, the UI decision, evaluation.
        // The one YAML reader: typed reads that fail naming the file and field, in each caller's error type.
        .target(name: "ConfigFiles", dependencies: [.product(name: "Yams", package: "Yams")], path: "Functions/Services/ConfigFiles"),
        .target(
            name: "IntentRouting",
            dependencies: ["JSON", "Embeddings", "COpenBLAS", "TextFolding", "LanguageDetection", "ConfigFiles"],
            path: "Functions/ML/IntentRouting"
        ),
        .executableTarget(
            name: "RouteEval",
            dependencies: ["JSON", "IntentRouting", "Embeddings", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Tools/RouteEval"
        ),
        // Search evaluation: BEIR-format collections and ranking metrics (a library, so tests can
        // check the arithmetic), and the harness that runs them through the real API.
        .target(name: "SearchEvaluation", path: "Tools/SearchEvaluation"),
        // `rag`: the command-line client of the HTTP API (ingest a folder, search, ask, jobs, docs).
        .executableTarget(
            name: "RagCLI",
            dependencies: ["HTTPClient", "JSON", .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Tools/RagCLI"
        ),
        .executableTarget(
            name: "SearchEval",
            dependencies: ["SearchEvaluation", "HTTPClient", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Tools/SearchEval"
        ),
        .executableTarget(
            name: "Embed",
            dependencies: ["JSON", "Embeddings", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Tools/Embed"
        ),
        // The store protocol, its value types and the rules both stores share.
        .target(name: "DocumentStore", dependencies: ["JSON", "TextFolding", "Tenancy"], path: "Functions/Data/DocumentStore"),
        .target(
            name: "PostgresStore",
            dependencies: ["JSON", "DocumentStore", "PostgresClient"],
            path: "Functions/Data/PostgresStore"
        ),
        .target(name: "Stores", dependencies: ["DocumentStore", "SQLiteStore", "PostgresStore"], path: "Functions/Data/Stores"),
        // AVX2 scan kernels with a run-time CPU check (see vector_kernels.c).
        .target(name: "CVectorKernels", path: "Functions/Data/CVectorKernels"),
        .target(
            name: "SQLiteStore",
            dependencies: [
                "JSON", "DocumentStore", "CVectorKernels", "Tenancy",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Functions/Data/SQLiteStore"
        ),
    ] + functions.map { fn in
        .executableTarget(
            name: fn.target,
            dependencies: runtime + (functionLibraries[fn.product] ?? []) + [.target(name: "CGlibcCompat", condition: .when(platforms: [.linux]))],
            path: "Functions/Handlers/\(fn.folder)",
            linkerSettings: glibcCompatLinking
        )
    } + [
        // MARK: Emulator: knows functions only through the template.
        .target(
            name: "EmulatorCore",
            dependencies: [
                "JSON", "FunctionProtocol", "LambdaEvents", "CSpawn", "HTTPRouting", "BearerTokens",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Emulator/EmulatorCore"
        ),
        .executableTarget(
            name: "EmulatorCLI",
            dependencies: [
                "JSON", "EmulatorCore", "FunctionProtocol", "LambdaEvents",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Emulator/EmulatorCLI"
        ),

        // MARK: Developer tools.
        // Applies migrations to the template's database: apart from the emulator, which links no store.
        .executableTarget(
            name: "MigrateTool",
            dependencies: ["EmulatorCore", "Stores", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Tools/Migrate"
        ),

        // MARK: Benchmarks (run in release by infra/bench/run.sh).
        .executableTarget(
            name: "Bench",
            dependencies: [
                "JSON", "FunctionProtocol", "LambdaEvents",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "infra/bench/Bench"
        ),
        .executableTarget(
            name: "StoreBench",
            dependencies: [
                "DocumentStore", "SQLiteStore", "PostgresStore", "PostgresClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "infra/bench/StoreBench"
        ),
        .executableTarget(
            name: "GenerateBench",
            dependencies: ["DocumentStore", "SQLiteStore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "infra/bench/GenerateBench"
        ),

        // MARK: Tests
        .executableTarget(name: "FixtureFunction", dependencies: runtime + ["LambdaEvents", "JSON", "FunctionProtocol"], path: "Tests/Fixtures/FixtureFunction"),
        .testTarget(name: "LambdaEventsTests", dependencies: ["RequestTenancy", "JSON", "LambdaEvents", "Tenancy"], path: "Tests/LambdaEventsTests",
                    resources: [.copy("Examples")]),
        .testTarget(
            name: "FunctionRuntimeTests",
            dependencies: [
                "JSON", "FunctionRuntime", "FunctionProtocol", "LambdaEvents", "TestSupport", "AWSSigV4",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/FunctionRuntimeTests"
        ),
        .testTarget(name: "HealthChecksTests", dependencies: ["HealthChecks", "DocumentStore", "Stores", "TestSupport"], path: "Tests/HealthChecksTests"),
        .testTarget(name: "PostgresClientTests", dependencies: ["PostgresClient", "TestSupport"], path: "Tests/PostgresClientTests"),
        .testTarget(name: "IngestionTests", dependencies: ["Ingestion", "JSON", "ServiceErrors", "Embeddings", "TestSupport"], path: "Tests/IngestionTests"),
        .testTarget(
            name: "RetrievalTests",
            dependencies: ["ServiceErrors", "JSON", "Retrieval", "DocumentStore", "SQLiteStore", "PostgresStore", "Embeddings",
                           "LambdaEvents", "SearchEvaluation", "TestSupport"],
            path: "Tests/RetrievalTests"
        ),
        .testTarget(name: "ResilienceTests", dependencies: ["Resilience"], path: "Tests/ResilienceTests"),
        .testTarget(name: "HTTPRoutingTests", dependencies: ["HTTPRouting"], path: "Tests/HTTPRoutingTests"),
        .testTarget(name: "LanguageDetectionTests", dependencies: ["LanguageDetection"], path: "Tests/LanguageDetectionTests"),
        .testTarget(
            name: "RerankingTests",
            dependencies: [
                "Reranking", "Resilience", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/RerankingTests"),
        .testTarget(
            name: "EmbeddingPoolTests",
            dependencies: [
                "Embeddings", "EmbeddingPolicies", "DocumentStore", "Retrieval", "Stores", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/EmbeddingPoolTests"),
        .testTarget(
            name: "HTTPEmbeddingTests",
            dependencies: [
                "Embeddings", "Resilience", "HTTPClient", "TestSupport", "PrivacyGuard",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/HTTPEmbeddingTests"
        ),
        .testTarget(
            name: "IntentRoutingTests",
            dependencies: ["IntentRouting", "Embeddings", "TestSupport"],
            path: "Tests/IntentRoutingTests"
        ),
        .testTarget(name: "EmbeddingsTests", dependencies: ["JSON", "Embeddings", "COpenBLAS", "TestSupport"], path: "Tests/EmbeddingsTests"),
        .testTarget(
            name: "StoreConformanceTests",
            dependencies: ["JSON", "DocumentStore", "SQLiteStore", "PostgresStore", "PostgresClient", "TestSupport", "CVectorKernels", "Stores"],
            path: "Tests/StoreConformanceTests"
        ),
        .testTarget(
            name: "EmulatorCoreTests",
            dependencies: [
                "JSON", "EmulatorCore", "FunctionProtocol", "LambdaEvents", "TestSupport", "BearerTokens", "EmbeddedMetrics",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"), .product(name: "Yams", package: "Yams"),
            ],
            path: "Tests/EmulatorCoreTests"
        ),
        .testTarget(
            name: "DocumentsTests",
            dependencies: ["Documents", "DocumentStore", "SQLiteStore", "PostgresStore", "PostgresClient", "ServiceErrors",
                           "Ingestion", "LambdaEvents", "Tenancy", "AWSSigV4", "TestSupport"],
            path: "Tests/DocumentsTests"
        ),
        .testTarget(
            name: "GenerationTests",
            dependencies: [
                "ServiceErrors", "JSON", "Generation", "Retrieval", "DocumentStore", "SQLiteStore", "Embeddings", "Resilience", "LambdaEvents", "TestSupport",
                "HTTPClient",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/GenerationTests"
        ),
        .testTarget(
            name: "GenerateThroughEmulatorTests",
            dependencies: [
                "TestSupport", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/GenerateThroughEmulatorTests"
        ),
        .testTarget(name: "UploadThroughEmulatorTests", dependencies: ["TestSupport"], path: "Tests/UploadThroughEmulatorTests"),
        .testTarget(name: "RagCLITests", dependencies: ["TestSupport"], path: "Tests/RagCLITests"),
        .testTarget(name: "SharedCacheTests", dependencies: ["DocumentStore", "Embeddings", "FunctionServices", "RedisClient", "Stores", "TestSupport"],
                    path: "Tests/SharedCacheTests"),
        .testTarget(
            name: "IndexingTests",
            dependencies: ["Indexing", "Documents", "DocumentStore", "SQLiteStore", "PostgresStore",
                           "Embeddings", "Ingestion", "LambdaEvents", "Resilience", "TestSupport", .product(name: "Logging", package: "swift-log")],
            path: "Tests/IndexingTests"
        ),
        .testTarget(name: "ReembedThroughEmulatorTests", dependencies: ["TestSupport"], path: "Tests/ReembedThroughEmulatorTests",
                    exclude: ["fake_embeddings.py"]),
        .testTarget(name: "SearchThroughEmulatorTests", dependencies: ["TestSupport"], path: "Tests/SearchThroughEmulatorTests"),
        .target(
            name: "TestSupport",
            dependencies: ["PostgresClient", "LambdaEvents", .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport"
        ),
    ],
    swiftLanguageModes: [.v6]
)
