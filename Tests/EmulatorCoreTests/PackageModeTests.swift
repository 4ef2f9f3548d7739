import Foundation
import Testing
import TestSupport

/// `start-api --packages`: the functions run from Lambda package folders (`<fn>/bootstrap`, as
/// infra/package.sh writes them, or `<LogicalId>/bootstrap`, as `sam build` does) the way Lambda
/// runs them: through the Runtime API, the folder as task root and working directory, `lib/` on
/// the library path, the task root read-only where the machine allows a mount namespace.
@Suite(.serialized) struct PackageModeTests {
    static let template = """
    Transform: AWS::Serverless-2016-10-31
    Globals:
      Function:
        Timeout: 5
        Environment:
          Variables:
            DATABASE_URL: sqlite://.data/pkg.sqlite
            BLOB_DIR: .data/blobs
    Resources:
      ByName:
        Type: AWS::Serverless::Function
        Properties:
          Handler: fixture-fn
          Events:
            A: {Type: HttpApi, Properties: {Method: ANY, Path: "/name/{proxy+}"}}
      ByLogicalId:
        Type: AWS::Serverless::Function
        Properties:
          Handler: other-fn
          Events:
            A: {Type: HttpApi, Properties: {Method: ANY, Path: "/id/{proxy+}"}}
      Unpackaged:
        Type: AWS::Serverless::Function
        Properties:
          Handler: not-packaged
          Events:
            A: {Type: HttpApi, Properties: {Method: GET, Path: /none}}
    """

    /// Two package folders built from the fixture binary, one per naming scheme.
    static func packages() throws -> String {
        let dir = TestPaths.temporaryDirectory("packages")
        let fm = FileManager.default
        for folder in ["fixture-fn", "ByLogicalId"] {
            try fm.createDirectory(atPath: "\(dir)/\(folder)/lib", withIntermediateDirectories: true)
            try fm.copyItem(atPath: TestPaths.binDirectory + "/fixture-fn", toPath: "\(dir)/\(folder)/bootstrap")
        }
        return dir
    }

    @Test func packagesRunAsLambdaRunsThem() async throws {
        let dir = try Self.packages()
        let emu = try await EmulatorHarness.start(template: Self.template, arguments: ["--no-schedules", "--packages", "--package-dir", dir])
        defer { Task { await emu.stop() } }
        func env(_ prefix: String, _ name: String) async throws -> String {
            try await emu.get("/\(prefix)/env?name=\(name)").json["value"] as? String ?? "?"
        }
        let root = (dir as NSString).resolvingSymlinksInPath + "/fixture-fn"
        #expect(try await env("name", "LAMBDA_TASK_ROOT").hasSuffix("/fixture-fn"))
        #expect(try await env("name", "AWS_LAMBDA_RUNTIME_API").hasPrefix("127.0.0.1:"))
        #expect(try await env("name", "LD_LIBRARY_PATH").hasSuffix("/fixture-fn/lib"))
        // The code is the package's; the data stays where the emulator runs.
        #expect(try await env("name", "DATABASE_URL") == "sqlite://\(emu.directory)/.data/pkg.sqlite")
        #expect(try await env("name", "BLOB_DIR") == "\(emu.directory)/.data/blobs")
        // `sam build`'s folders are named by logical id.
        #expect(try await env("id", "LAMBDA_TASK_ROOT").hasSuffix("/ByLogicalId"))

        let probe = try await emu.get("/name/write")
        #expect(probe.status == 200)
        #expect((probe.json["cwd"] as? String).map { ($0 as NSString).resolvingSymlinksInPath } == root)
        let readOnly = emu.child.stderr.contains { $0.contains("each task root read-only") }
        if readOnly {
            #expect(probe.json["written"] as? Bool == false, "a write to the task root must fail, as on Lambda")
        } else {
            #expect(emu.child.stderr.contains { $0.contains("the task roots are writable, unlike on Lambda") })
        }

        let missing = try await emu.get("/none")
        #expect(missing.status == 502)
        #expect(emu.child.stderr.contains { $0.contains("No package for Unpackaged") } || missing.text.contains("No package for Unpackaged"),
                "\(missing.text)")
    }
}
