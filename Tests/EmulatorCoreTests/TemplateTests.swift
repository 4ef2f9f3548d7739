import Foundation
import Testing
import TestSupport
@testable import EmulatorCore

@Suite struct TemplateTests {
    @Test func theProjectTemplateDescribesTheSixFunctions() throws {
        let t = try Template.load(path: TestPaths.packageRoot + "/infra/template.yaml")
        #expect(Set(t.functions.map(\.handler)) == ["route", "upload", "reembed", "search", "generate", "health"])
        for f in t.functions {
            #expect(f.runtime == "provided.al2023")
            // `sam build` runs infra/Makefile in the template's folder.
            #expect(f.codeUri == ".")
            // Globals reach every function, resolved from Parameters; the database and blob
            // folder from Metadata.Emulator.Parameters (a cloud deploy has no such default), so
            // the bucket condition is false and BLOB_URL empty.
            #expect(f.environment["DATABASE_URL"] == "sqlite://.data/rag.sqlite")
            #expect(f.environment["BLOB_DIR"] == ".data/blobs")
            #expect(f.environment["BLOB_URL"] == "")
            #expect(f.environment["LOG_LEVEL"] == "info")
            // !Sub ${AWS::StackName}-name with the local stack name.
            #expect(f.functionName == "local-\(f.handler)")
        }
        let health = try #require(t.function(named: "health"))
        #expect(health.timeoutSeconds == 5)
        #expect(health.memoryMB == 128)
        #expect(health.httpEvents.map(\.routeKey).sorted() == ["GET /healthz", "GET /openapi.json", "GET /openapi.yaml", "GET /readyz"])
        #expect(health.httpEvents.allSatisfy { $0.authorizer == "NONE" })
        let upload = try #require(t.function(named: "UploadFunction"))
        #expect(upload.environment["MAX_UPLOAD_BYTES"] == "5242880")
        #expect(upload.environment["REEMBED_FUNCTION"] == "local-reembed")
        let reembed = try #require(t.function(named: "local-reembed"))
        #expect(reembed.reservedConcurrency == 2)
        #expect(reembed.schedules.map(\.expression).sorted() == ["cron(0 2 * * ? *)", "rate(1 minute)"])
        #expect(reembed.schedules.first { $0.expression.hasPrefix("rate") }?.input == #"{"task":"drain"}"#)
        let api = try #require(t.apis["HttpApi"])
        #expect(api.defaultAuthorizer == "OrgJwt")
        #expect(api.authorizers["OrgJwt"]?.audience == ["rag-api"])
        let routes = try RouteTable(functions: t.functions)
        #expect(routes.routes.count == 19)
    }

    @Test func parameterOverridesWin() throws {
        let t = try Template.load(path: TestPaths.packageRoot + "/infra/template.yaml",
                                  parameterOverrides: ["DatabaseUrl": "postgres://u@h/db"])
        #expect(t.functions.allSatisfy { $0.environment["DATABASE_URL"] == "postgres://u@h/db" })
    }

    /// As deployed: no blob folder means the stack's bucket; a secret wins over the URL.
    @Test func theCloudShapeOfTheProjectTemplate() throws {
        let t = try Template.load(path: TestPaths.packageRoot + "/infra/template.yaml",
                                  parameterOverrides: ["BlobDir": "", "DatabaseUrl": "", "DatabaseSecret": "rag/db"])
        for f in t.functions {
            #expect(f.environment["BLOB_URL"] == "s3://DocumentsBucket/documents")
            #expect(f.environment["DATABASE_URL"] == "{{resolve:secretsmanager:rag/db:SecretString:url}}")
        }
    }

    @Test func conditionsPickBranchesAndNoValueRemoves() throws {
        let yaml = """
        Metadata:
          Emulator:
            Parameters: {Mode: local}
        Parameters:
          Mode: {Type: String}
          Subnets: {Type: CommaDelimitedList, Default: ""}
        Conditions:
          IsLocal: !Equals [!Ref Mode, local]
          IsCloud: {"Fn::Not": [{Condition: IsLocal}]}
          Both: !And [!Condition IsLocal, !Equals [a, a]]
          Either: !Or [!Condition IsCloud, !Equals [!Join ["", !Ref Subnets], ""]]
        Resources:
          Bucket:
            Type: AWS::S3::Bucket
            Condition: IsCloud
          CloudOnly:
            Type: AWS::Serverless::Function
            Condition: IsCloud
            Properties: {Handler: cloud}
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Handler: fixture-fn
              Timeout: !If [IsLocal, 9, 3]
              Environment:
                Variables:
                  PICK: !If [IsLocal, here, !Sub "s3://${Bucket}/x"]
                  LONG: {"Fn::If": [Both, both, neither]}
                  EITHER: !If [Either, either, neither]
                  GONE: !If [IsCloud, x, !Ref AWS::NoValue]
                  SPLIT: !Select [2, !Split ["/", "s3://bucket/prefix"]]
        """
        let t = try Template.parse(yaml: yaml)
        #expect(t.functions.map(\.handler) == ["fixture-fn"])
        let fn = try #require(t.functions.first)
        #expect(fn.timeoutSeconds == 9)
        #expect(fn.environment == ["PICK": "here", "LONG": "both", "EITHER": "either", "SPLIT": "bucket"])
        // The other branch is never resolved: a cloud value works where the emulator has none.
        let cloud = try Template.parse(yaml: yaml, parameterOverrides: ["Mode": "aws"])
        #expect(Set(cloud.functions.map(\.handler)) == ["cloud", "fixture-fn"])
        #expect(cloud.functions.first { $0.handler == "fixture-fn" }?.environment["PICK"] == "s3://Bucket/x")
    }

    @Test func unusableParametersAndConditionsAreNamed() throws {
        let missing = """
        Parameters:
          DatabaseUrl: {Type: String}
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties: {Handler: fn, Environment: {Variables: {DATABASE_URL: !Ref DatabaseUrl}}}
        """
        #expect { try Template.parse(yaml: missing) } throws: { "\($0)".contains("--parameter-overrides DatabaseUrl=") }
        #expect(try Template.parse(yaml: missing, parameterOverrides: ["DatabaseUrl": "x"]).functions.first?.environment["DATABASE_URL"] == "x")
        let unknownLocal = "Metadata: {Emulator: {Parameters: {Nope: x}}}\n" + missing
        #expect { try Template.parse(yaml: unknownLocal) } throws: { "\($0)".contains("Nope") }
        let cycle = """
        Conditions:
          A: !Not [!Condition B]
          B: !Not [!Condition A]
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties: {Handler: fn, Timeout: !If [A, 1, 2]}
        """
        #expect { try Template.parse(yaml: cycle) } throws: { "\($0)".contains("refers to itself") }
        let undefined = """
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties: {Handler: fn, Timeout: !If [Missing, 1, 2]}
        """
        #expect { try Template.parse(yaml: undefined) } throws: { "\($0)".contains("no condition named `Missing`") }
    }

    @Test func intrinsicsShortAndLongForm() throws {
        let yaml = """
        Parameters:
          Stage: {Type: String, Default: dev}
        Globals:
          Function:
            Timeout: 7
            Environment:
              Variables:
                A: global
                B: global
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Handler: fixture-fn
              Environment:
                Variables:
                  B: own
                  REF: !Ref Stage
                  LONGREF: {Ref: Stage}
                  SUB: !Sub "${Stage}-${AWS::Region}-${!Literal}"
                  SUBLIST: !Sub ["${X}-${Stage}", {X: ex}]
                  LONGSUB: {"Fn::Sub": "s-${Stage}"}
                  ATT: !GetAtt Fn.Arn
                  JOIN: !Join [":", [a, !Ref Stage, c]]
                  SELECT: !Select [1, [x, y, z]]
                  NUM: 5
                  FLAG: true
        """
        let fn = try #require(try Template.parse(yaml: yaml).functions.first)
        #expect(fn.timeoutSeconds == 7)
        #expect(fn.environment == [
            "A": "global", "B": "own", "REF": "dev", "LONGREF": "dev", "SUB": "dev-us-east-1-${Literal}",
            "SUBLIST": "ex-dev", "LONGSUB": "s-dev", "ATT": "arn:aws:lambda:us-east-1:123456789012:function:Fn",
            "JOIN": "a:dev:c", "SELECT": "y", "NUM": "5", "FLAG": "true",
        ])
    }

    @Test(arguments: [
        ("Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {}\n", "has no Handler"),
        ("Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: h\n      Environment: {Variables: {X: !Ref Nope}}\n", "unknown parameter or resource `Nope`"),
        ("Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: h\n      Timeout: 0\n", "Timeout must be"),
        ("Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: h\n      Tags: !FindInMap [a, b, c]\n", "FindInMap is not supported"),
        ("a: [unclosed", "not valid YAML"),
        ("Description: x\n", "no Resources"),
    ])
    func invalidTemplatesSayWhy(yaml: String, reason: String) {
        #expect {
            try Template.parse(yaml: yaml)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test func envFileParsing() throws {
        let env = try EnvironmentLayers.parseEnvFile("""
        # comment
        A=1
        export B = two words
        C="quoted # not a comment\\nnext"
        D='single $x'
        E=value # trailing comment

        """)
        #expect(env == ["A": "1", "B": "two words", "C": "quoted # not a comment\nnext", "D": "single $x", "E": "value"])
        #expect(throws: TemplateError.self) { try EnvironmentLayers.parseEnvFile("NOEQUALS") }
        #expect(throws: TemplateError.self) { try EnvironmentLayers.parseEnvFile("BAD-NAME=1") }
    }

    @Test func envVarsJSONInSAMsFormat() throws {
        let vars = try EnvironmentLayers.parseEnvVarsJSON(Data(#"{"Parameters":{"A":"1"},"Fn":{"B":2,"C":true}}"#.utf8))
        #expect(vars == ["Parameters": ["A": "1"], "Fn": ["B": "2", "C": "true"]])
        #expect(throws: TemplateError.self) { try EnvironmentLayers.parseEnvVarsJSON(Data("[1]".utf8)) }
        #expect(throws: TemplateError.self) { try EnvironmentLayers.parseEnvVarsJSON(Data(#"{"Fn":"x"}"#.utf8)) }
    }

    @Test func environmentLayeringOrder() throws {
        let yaml = """
        Resources:
          F:
            Type: AWS::Serverless::Function
            Properties:
              Handler: h
              MemorySize: 256
              Environment:
                Variables: {T_ONLY: t, T_AND_FILE: t, ALL: t, AWS_LAMBDA_FUNCTION_NAME: spoofed}
        """
        let fn = try #require(try Template.parse(yaml: yaml).functions.first)
        let layers = EnvironmentLayers(envFile: ["T_AND_FILE": "file", "ALL": "file", "FILE_ONLY": "file", "FILE_AND_VARS": "file"],
                                       envVars: ["Parameters": ["FILE_AND_VARS": "params", "ALL": "params"],
                                                 "F": ["FILE_AND_VARS": "function", "VARS_ONLY": "function"],
                                                 "Other": ["VARS_ONLY": "other"]],
                                       shell: ["ALL": "shell", "PATH": "/bin", "AWS_LAMBDA_RUNTIME_API": "leak:1"])
        let env = layers.resolved(for: fn, taskRoot: "/bin")
        #expect(env["T_ONLY"] == "t")
        #expect(env["T_AND_FILE"] == "file")
        #expect(env["FILE_ONLY"] == "file")
        #expect(env["ALL"] == "shell")
        #expect(env["FILE_AND_VARS"] == "function")  // per-function --env-vars beat .env and Parameters
        #expect(env["VARS_ONLY"] == "function")
        #expect(env["AWS_LAMBDA_FUNCTION_NAME"] == "F")  // reserved: no layer overrides it
        #expect(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256")
        #expect(env["AWS_LAMBDA_RUNTIME_API"] == nil)
        #expect(env["_HANDLER"] == "h")
        #expect(env["LAMBDA_TASK_ROOT"] == "/bin")
    }
}

@Suite struct FunctionInterfaceTests {
    static func template(_ function: String) -> String {
        """
        Resources:
          F:
            Type: AWS::Serverless::Function
        \(function)
        """
    }

    @Test func pythonRuntimesAndMetadataPickTheRuntimeAPI() throws {
        let t = try Template.parse(yaml: """
        Resources:
          Py:
            Type: AWS::Serverless::Function
            Properties: {Runtime: python3.12, Handler: pkg.app.handler, CodeUri: src/}
          Swift:
            Type: AWS::Serverless::Function
            Metadata: {EmulatorInterface: runtime-api}
            Properties: {Handler: search}
          Plain:
            Type: AWS::Serverless::Function
            Properties: {Handler: health}
        """, directory: "/srv/app/infra")
        #expect(t.function(named: "Py")?.interface == .runtimeAPI)
        #expect(t.function(named: "Swift")?.interface == .runtimeAPI)
        #expect(t.function(named: "Plain")?.interface == .stdio)

        // A Python handler's module is looked up in CodeUri, relative to the template.
        let py = try #require(t.function(named: "Py"))
        #expect(throws: InvocationFailure.self) {
            try FunctionLaunch.resolve(py, template: t, binaries: ExecutableLocator(directory: "/nowhere"))
        }
        do {
            _ = try FunctionLaunch.resolve(py, template: t, binaries: ExecutableLocator(directory: "/nowhere"))
        } catch {
            #expect(error.description.contains("/srv/app/infra/src"))
            #expect(error.description.contains("pkg/app.py"))
        }
    }

    @Test func theFlagSwitchesNamedFunctions() throws {
        var t = try Template.parse(yaml: """
        Resources:
          A: {Type: AWS::Serverless::Function, Properties: {Handler: a, FunctionName: stack-a}}
          B: {Type: AWS::Serverless::Function, Properties: {Handler: b}}
        """)
        try t.useRuntimeAPI(for: ["stack-a"])
        #expect(t.function(named: "A")?.interface == .runtimeAPI)
        #expect(t.function(named: "B")?.interface == .stdio)
        try t.useRuntimeAPI(for: ["all"])
        #expect(t.function(named: "B")?.interface == .runtimeAPI)
        #expect(throws: TemplateError.self) { try t.useRuntimeAPI(for: ["nope"]) }
    }

    @Test(arguments: [
        ("Metadata: {EmulatorInterface: grpc}\n    Properties: {Handler: h}", "EmulatorInterface must be stdio or runtime-api"),
        ("Metadata: {EmulatorInterface: stdio}\n    Properties: {Handler: app.handler, Runtime: python3.12}", "speaks only the Runtime API"),
        ("Properties: {Handler: app, Runtime: python3.12}", "module.function"),
    ])
    func badInterfacesAreRejected(function: String, message: String) throws {
        do {
            _ = try Template.parse(yaml: Self.template("    " + function))
            Issue.record("accepted \(function)")
        } catch let error as TemplateError {
            #expect(error.description.contains(message), "\(error)")
        }
    }
}

@Suite struct RouteTableTests {
    static func table() throws -> RouteTable {
        let yaml = """
        Resources:
          A:
            Type: AWS::Serverless::Function
            Properties:
              Handler: a
              Events:
                Get: {Type: HttpApi, Properties: {Method: GET, Path: "/v1/documents/{id}"}}
                Del: {Type: HttpApi, Properties: {Method: DELETE, Path: "/v1/documents/{id}"}}
                Search: {Type: HttpApi, Properties: {Method: GET, Path: /v1/documents/search}}
                Versions: {Type: HttpApi, Properties: {Method: GET, Path: "/v1/documents/{id}/versions"}}
          B:
            Type: AWS::Serverless::Function
            Properties:
              Handler: b
              Events:
                Proxy: {Type: HttpApi, Properties: {Method: ANY, Path: "/files/{proxy+}"}}
                Exact: {Type: HttpApi, Properties: {Method: GET, Path: /files/readme}}
        """
        return try RouteTable(functions: Template.parse(yaml: yaml).functions)
    }

    func resolve(_ method: String, _ path: String) throws -> (String, [String: String])? {
        if case .route(let e, let p) = try Self.table().match(method: method, path: path) { return (e.event.routeKey, p) }
        return nil
    }

    @Test func mostSpecificRouteWins() throws {
        #expect(try resolve("GET", "/v1/documents/search")?.0 == "GET /v1/documents/search")
        #expect(try resolve("GET", "/v1/documents/abc")?.0 == "GET /v1/documents/{id}")
        #expect(try resolve("GET", "/v1/documents/abc")?.1 == ["id": "abc"])
        #expect(try resolve("GET", "/v1/documents/a%20b/versions")?.1 == ["id": "a b"])
        #expect(try resolve("GET", "/files/readme")?.0 == "GET /files/readme")
        #expect(try resolve("PUT", "/files/a/b/c")?.1 == ["proxy": "a/b/c"])
        #expect(try resolve("GET", "/v1/documents/abc/")?.0 == "GET /v1/documents/{id}")
    }

    @Test func unknownPathIs404AndWrongMethodIs405() throws {
        let t = try Self.table()
        guard case .notFound = t.match(method: "GET", path: "/v2/nothing") else { Issue.record("expected 404"); return }
        guard case .notFound = t.match(method: "GET", path: "/files") else { Issue.record("greedy needs a segment"); return }
        guard case .methodNotAllowed(let allowed) = t.match(method: "POST", path: "/v1/documents/x") else {
            Issue.record("expected 405"); return
        }
        #expect(allowed == ["DELETE", "GET"])
    }

    @Test func duplicateRoutesAreRejected() throws {
        let yaml = """
        Resources:
          A: {Type: AWS::Serverless::Function, Properties: {Handler: a, Events: {E: {Type: HttpApi, Properties: {Method: GET, Path: /x}}}}}
          B: {Type: AWS::Serverless::Function, Properties: {Handler: b, Events: {E: {Type: HttpApi, Properties: {Method: GET, Path: /x}}}}}
        """
        #expect(throws: TemplateError.self) { try RouteTable(functions: Template.parse(yaml: yaml).functions) }
    }

    @Test func defaultRouteCatchesTheRest() throws {
        let yaml = """
        Resources:
          A: {Type: AWS::Serverless::Function, Properties: {Handler: a, Events: {E: {Type: HttpApi}}}}
        """
        let t = try RouteTable(functions: Template.parse(yaml: yaml).functions)
        guard case .route(let e, _) = t.match(method: "PATCH", path: "/any/thing") else { Issue.record("expected $default"); return }
        #expect(e.event.routeKey == "$default")
    }
}
