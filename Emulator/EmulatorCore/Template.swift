import Foundation
import JSON
import Yams

/// The SAM template, read the way `sam local` reads it: the single manifest of the bundle.
/// Only what the emulator needs is modelled; everything else is left for `sam deploy`.
package struct Template: Sendable {
    package var functions: [FunctionSpec]
    package var apis: [String: HttpApiSpec]
    package var parameters: [String: String]
    /// The folder the template lives in: `CodeUri` and relative paths resolve against it.
    package var directory: String

    package func function(named name: String) -> FunctionSpec? {
        functions.first { $0.logicalId == name }
            ?? functions.first { $0.functionName == name }
            ?? functions.first { $0.handler == name }
    }
}

package struct FunctionSpec: Sendable, Equatable {
    package var logicalId: String
    /// The deployed name (`FunctionName`), else the logical id, as Lambda reports it.
    package var functionName: String
    /// The SwiftPM product: the executable the emulator starts.
    package var handler: String
    package var runtime: String
    package var codeUri: String?
    package var timeoutSeconds: Double
    package var memoryMB: Int
    package var reservedConcurrency: Int?
    package var environment: [String: String]
    package var httpEvents: [HttpEventSpec]
    package var schedules: [ScheduleSpec]
    /// How the emulator talks to the function's processes.
    package var interface: FunctionInterface = .stdio
    /// `FunctionUrlConfig`: the function's own URL (served on a port of its own).
    package var functionURL: FunctionURLSpec?

    /// Python functions run under AWS's own runtime interface client (`python3 -m awslambdaric`).
    package var isPython: Bool { runtime.hasPrefix("python") }
}

/// A function URL (`FunctionUrlConfig`).
package struct FunctionURLSpec: Sendable, Equatable {
    package enum AuthType: String, Sendable, Equatable { case none = "NONE", awsIAM = "AWS_IAM" }
    package enum InvokeMode: String, Sendable, Equatable {
        /// The answer is read whole (Lambda's Invoke).
        case buffered = "BUFFERED"
        /// The answer is sent to the client as the function writes it (InvokeWithResponseStream).
        case responseStream = "RESPONSE_STREAM"
    }
    package var authType: AuthType
    package var invokeMode: InvokeMode
}

/// The wire between the emulator and a handler process.
package enum FunctionInterface: String, Sendable, Equatable, CaseIterable {
    /// NDJSON frames over stdin/stdout: the fast local protocol (docs/ARCHITECTURE.md, section 4).
    case stdio
    /// The Lambda Runtime API over HTTP, served by the emulator per process at
    /// `AWS_LAMBDA_RUNTIME_API`: what any Lambda runtime client speaks.
    case runtimeAPI = "runtime-api"
}

package struct HttpEventSpec: Sendable, Equatable {
    package var name: String
    /// Upper-cased; `ANY` matches every method.
    package var method: String
    /// `/v1/documents/{id}`, `/{proxy+}`, or `$default`.
    package var path: String
    package var apiId: String?
    /// nil: the API's default authorizer; "NONE": none.
    package var authorizer: String?

    package var routeKey: String { path == "$default" ? "$default" : "\(method) \(path)" }
}

package struct ScheduleSpec: Sendable, Equatable {
    package var name: String
    package var expression: String
    package var input: String?
    package var enabled: Bool
    package var timezone: String?
}

package struct HttpApiSpec: Sendable, Equatable {
    package var logicalId: String
    package var defaultAuthorizer: String?
    package var authorizers: [String: JWTAuthorizerSpec]
}

package struct JWTAuthorizerSpec: Sendable, Equatable {
    package var name: String
    package var identitySource: String
    package var issuer: String?
    package var audience: [String]
}

package struct TemplateError: Error, CustomStringConvertible, Equatable {
    package var description: String
    init(_ d: String) { description = d }
}

extension Template {
    package static func load(path: String, parameterOverrides: [String: String] = [:]) throws -> Template {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw TemplateError("Cannot read the template at \(path): \(error.localizedDescription)")
        }
        let dir = (path as NSString).deletingLastPathComponent
        return try parse(yaml: text, directory: dir.isEmpty ? "." : dir, parameterOverrides: parameterOverrides)
    }

    package static func parse(yaml: String, directory: String = ".", parameterOverrides: [String: String] = [:]) throws -> Template {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw TemplateError("The template is not valid YAML: \(error)")
        }
        guard let root, case .mapping = root else { throw TemplateError("The template must be a YAML mapping.") }

        // Parameters first: intrinsics everywhere else refer to them. A value comes from
        // `--parameter-overrides`, else the template's `Metadata.Emulator.Parameters` (the local
        // values of parameters a cloud deploy must be given, such as the database), else `Default`.
        var parameters: [String: String] = [:]
        var declared: Set<String> = []
        var lists: Set<String> = []
        if let params = root["Parameters"]?.mapping {
            for (key, value) in params {
                guard let name = key.string else { continue }
                declared.insert(name)
                if let type = value["Type"]?.string, type == "CommaDelimitedList" || type.hasPrefix("List<") { lists.insert(name) }
                if let d = value["Default"] { parameters[name] = scalarText(d) }
            }
        }
        for (key, value) in root["Metadata"]?["Emulator"]?["Parameters"]?.mapping ?? [:] {
            guard let name = key.string else { continue }
            guard declared.contains(name) else {
                throw TemplateError("Metadata.Emulator.Parameters.\(name): the template declares no such parameter.")
            }
            parameters[name] = scalarText(value)
        }
        for (k, v) in parameterOverrides { parameters[k] = v }
        guard let resources = root["Resources"]?.mapping else { throw TemplateError("The template has no Resources.") }
        let resourceIds = Set(resources.keys.compactMap(\.string))
        var conditionNodes: [String: Node] = [:]
        for (key, value) in root["Conditions"]?.mapping ?? [:] { if let name = key.string { conditionNodes[name] = value } }
        let resolver = IntrinsicResolver(parameters: parameters, declared: declared, lists: lists,
                                         resources: resourceIds, conditions: conditionNodes)

        let globals = try root["Globals"]?["Function"].map { try resolver.resolve($0, at: "Globals.Function") }?.objectValue ?? [:]

        var functions: [FunctionSpec] = []
        var apis: [String: HttpApiSpec] = [:]
        for (key, node) in resources {
            guard let id = key.string else { continue }
            // A resource whose `Condition` is false does not exist in this stack.
            if let condition = node["Condition"]?.string, try !resolver.condition(condition, at: "Resources.\(id).Condition") { continue }
            let type = node["Type"]?.string ?? ""
            // Only the resources the emulator runs are resolved: another resource's properties
            // may use intrinsics only CloudFormation can answer.
            guard type == "AWS::Serverless::Function" || type == "AWS::Serverless::HttpApi" else { continue }
            let props = try node["Properties"].map { try resolver.resolve($0, at: "Resources.\(id).Properties") }?.objectValue ?? [:]
            switch type {
            case "AWS::Serverless::Function":
                let metadata = try node["Metadata"].map { try resolver.resolve($0, at: "Resources.\(id).Metadata") }?.objectValue ?? [:]
                functions.append(try functionSpec(id: id, properties: merge(globals: globals, into: props), metadata: metadata))
            case "AWS::Serverless::HttpApi":
                apis[id] = try httpApiSpec(id: id, properties: props)
            default:
                continue
            }
        }
        functions.sort { $0.logicalId < $1.logicalId }
        return Template(functions: functions, apis: apis, parameters: parameters, directory: directory)
    }

    /// SAM's Globals: the function's own properties win; `Environment.Variables` merge by key.
    static func merge(globals: JSONObject, into props: JSONObject) -> JSONObject {
        var out = globals
        for (k, v) in props { out[k] = v }
        if let g = globals["Environment"]?["Variables"]?.objectValue {
            var vars = g
            for (k, v) in props["Environment"]?["Variables"]?.objectValue ?? [:] { vars[k] = v }
            out["Environment"] = .object(["Variables": .object(vars)])
        }
        return out
    }

    static func functionSpec(id: String, properties p: JSONObject, metadata: JSONObject = [:]) throws -> FunctionSpec {
        guard let handler = p["Handler"]?.stringValue, !handler.isEmpty else {
            throw TemplateError("Function \(id) has no Handler (the executable's product name).")
        }
        let timeout = p["Timeout"]?.doubleValue ?? Double(p["Timeout"]?.stringValue ?? "") ?? 3
        guard timeout > 0, timeout <= 900 else { throw TemplateError("Function \(id): Timeout must be 1-900 seconds, not \(timeout).") }
        let memory = p["MemorySize"]?.intValue ?? Int(p["MemorySize"]?.stringValue ?? "") ?? 128
        let reserved = p["ReservedConcurrentExecutions"]?.intValue ?? Int(p["ReservedConcurrentExecutions"]?.stringValue ?? "")
        if let reserved, reserved < 0 { throw TemplateError("Function \(id): ReservedConcurrentExecutions must be >= 0.") }
        var env: [String: String] = [:]
        for (k, v) in p["Environment"]?["Variables"]?.objectValue ?? [:] { env[k] = v.textValue }

        var http: [HttpEventSpec] = []
        var schedules: [ScheduleSpec] = []
        for (name, event) in (p["Events"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            let ep = event["Properties"]?.objectValue ?? [:]
            switch event["Type"]?.stringValue {
            case "HttpApi":
                let path = ep["Path"]?.stringValue ?? "$default"
                let method = (ep["Method"]?.stringValue ?? "ANY").uppercased()
                guard path == "$default" || path.hasPrefix("/") else {
                    throw TemplateError("Function \(id), event \(name): Path must start with / (got \(path)).")
                }
                http.append(HttpEventSpec(name: name, method: method == "X-AMAZON-APIGATEWAY-ANY-METHOD" ? "ANY" : method,
                                          path: path, apiId: ep["ApiId"]?.stringValue,
                                          authorizer: ep["Auth"]?["Authorizer"]?.stringValue))
            case "Schedule", "ScheduleV2":
                guard let expr = (ep["Schedule"] ?? ep["ScheduleExpression"])?.stringValue else {
                    throw TemplateError("Function \(id), event \(name): a schedule needs Schedule/ScheduleExpression.")
                }
                let enabled = ep["Enabled"]?.boolValue ?? (ep["State"]?.stringValue).map { $0 == "ENABLED" } ?? true
                schedules.append(ScheduleSpec(name: ep["Name"]?.stringValue ?? "\(id)-\(name)", expression: expr,
                                              input: ep["Input"]?.textValue, enabled: enabled,
                                              timezone: ep["ScheduleExpressionTimezone"]?.stringValue))
            default:
                continue
            }
        }
        var spec = FunctionSpec(
            logicalId: id, functionName: p["FunctionName"]?.stringValue ?? id, handler: handler,
            runtime: p["Runtime"]?.stringValue ?? "provided.al2023", codeUri: p["CodeUri"]?.stringValue,
            timeoutSeconds: timeout, memoryMB: memory, reservedConcurrency: reserved,
            environment: env, httpEvents: http, schedules: schedules)
        if let url = p["FunctionUrlConfig"] {
            guard case .object(let u) = url else { throw TemplateError("Function \(id): FunctionUrlConfig must be a mapping.") }
            let auth = u["AuthType"]?.stringValue ?? ""
            guard let authType = FunctionURLSpec.AuthType(rawValue: auth) else {
                throw TemplateError("Function \(id): FunctionUrlConfig.AuthType must be NONE or AWS_IAM, not \(auth.isEmpty ? "(missing)" : auth).")
            }
            let mode = u["InvokeMode"]?.stringValue ?? "BUFFERED"
            guard let invokeMode = FunctionURLSpec.InvokeMode(rawValue: mode) else {
                throw TemplateError("Function \(id): FunctionUrlConfig.InvokeMode must be BUFFERED or RESPONSE_STREAM, not \(mode).")
            }
            spec.functionURL = FunctionURLSpec(authType: authType, invokeMode: invokeMode)
        }
        if spec.isPython {
            spec.interface = .runtimeAPI
            guard handler.contains("."), !handler.hasPrefix("."), !handler.hasSuffix(".") else {
                throw TemplateError("Function \(id): a Python Handler is `module.function` (e.g. app.handler), not `\(handler)`.")
            }
        }
        if let value = metadata["EmulatorInterface"] {
            guard let text = value.stringValue, let interface = FunctionInterface(rawValue: text) else {
                throw TemplateError("Function \(id): Metadata.EmulatorInterface must be \(FunctionInterface.allCases.map(\.rawValue).joined(separator: " or ")), not \(value.textValue).")
            }
            if spec.isPython && interface == .stdio {
                throw TemplateError("Function \(id): a \(spec.runtime) function speaks only the Runtime API; remove Metadata.EmulatorInterface: stdio.")
            }
            spec.interface = interface
        }
        return spec
    }

    static func httpApiSpec(id: String, properties p: JSONObject) throws -> HttpApiSpec {
        var authorizers: [String: JWTAuthorizerSpec] = [:]
        for (name, a) in p["Auth"]?["Authorizers"]?.objectValue ?? [:] {
            let jwt = a["JwtConfiguration"]
            let audience: [String] = jwt?["audience"]?.arrayValue?.map(\.textValue) ?? jwt?["audience"]?.stringValue.map { [$0] } ?? []
            authorizers[name] = JWTAuthorizerSpec(
                name: name, identitySource: a["IdentitySource"]?.stringValue ?? "$request.header.Authorization",
                issuer: jwt?["issuer"]?.stringValue, audience: audience)
        }
        return HttpApiSpec(logicalId: id, defaultAuthorizer: p["Auth"]?["DefaultAuthorizer"]?.stringValue, authorizers: authorizers)
    }

    static func scalarText(_ node: Node) -> String {
        node.string ?? ""
    }
}

/// Resolves the intrinsic functions a local run needs (`!Ref`, `!Sub`, `!GetAtt`, `!Join`,
/// `!Select`, `!Split`, `!If` over the template's `Conditions` with `!Equals`, `!Not`, `!And`,
/// `!Or`), short and long form, with the pseudo parameters set to local values. `!Ref
/// AWS::NoValue` removes the property or list item it stands for, as CloudFormation does.
struct IntrinsicResolver {
    var parameters: [String: String]
    var declared: Set<String> = []
    /// `CommaDelimitedList` and `List<...>` parameters: `!Ref` gives a list, as in CloudFormation.
    var lists: Set<String> = []
    var resources: Set<String>
    var conditions: [String: Node] = [:]

    static let pseudo: [String: String] = [
        "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::StackName": "local",
        "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/local/local",
    ]
    /// What `!Ref AWS::NoValue` resolves to until the mapping or list holding it drops it.
    static let noValue = JSONValue.string("\u{0}AWS::NoValue")

    /// Resolves a value that is a property: `AWS::NoValue` at the top becomes absent (nil).
    func resolveProperty(_ node: Node, at path: String) throws -> JSONValue? {
        let v = try resolve(node, at: path)
        return v == Self.noValue ? nil : v
    }

    func resolve(_ node: Node, at path: String) throws -> JSONValue {
        let tag = node.tag.description
        if tag.hasPrefix("!") {
            return try intrinsic(String(tag.dropFirst()), argument: node, tagged: true, at: path)
        }
        switch node {
        case .scalar(let s):
            switch tag {
            case "tag:yaml.org,2002:int", "tag:yaml.org,2002:float": return node.float.map { .number($0) } ?? .string(s.string)
            case "tag:yaml.org,2002:bool": return node.bool.map { .bool($0) } ?? .string(s.string)
            case "tag:yaml.org,2002:null": return .null
            default: return .string(s.string)
            }
        case .sequence(let seq):
            return .array(try resolveItems(seq, at: path))
        case .mapping(let map):
            if map.count == 1, let key = map.first?.key.string, key == "Ref" || key.hasPrefix("Fn::") {
                let name = key == "Ref" ? "Ref" : String(key.dropFirst(4))
                return try intrinsic(name, argument: map.first!.value, tagged: false, at: path)
            }
            return .object(try resolveFields(map, at: path))
        case .alias:
            throw TemplateError("\(path): YAML aliases are not supported in templates.")
        }
    }

    private func argument(_ node: Node, tagged: Bool, at path: String) throws -> JSONValue {
        // A short-form tag sits on the node itself; strip it before resolving its content.
        guard tagged else { return try resolve(node, at: path) }
        switch node {
        case .scalar(let s): return .string(s.string)
        case .sequence(let seq): return .array(try resolveItems(seq, at: path))
        case .mapping(let m): return .object(try resolveFields(m, at: path))
        case .alias: throw TemplateError("\(path): YAML aliases are not supported in templates.")
        }
    }

    private func resolveItems(_ seq: Node.Sequence, at path: String) throws -> [JSONValue] {
        try seq.enumerated().map { try resolve($0.element, at: "\(path)[\($0.offset)]") }.filter { $0 != Self.noValue }
    }

    private func resolveFields(_ map: Node.Mapping, at path: String) throws -> JSONObject {
        var out: JSONObject = [:]
        for (k, v) in map {
            guard let key = k.string else { continue }
            let value = try resolve(v, at: "\(path).\(key)")
            if value != Self.noValue { out[key] = value }
        }
        return out
    }

    /// The raw items of an intrinsic's list argument (`!If`'s branches must stay unresolved:
    /// only the chosen one is, as in CloudFormation).
    private func rawItems(_ node: Node, name: String, count: Int, at path: String) throws -> [Node] {
        guard case .sequence(let seq) = node, seq.count == count else {
            throw TemplateError("\(path): \(name) takes a list of \(count).")
        }
        return Array(seq)
    }

    /// The value of a named condition from the template's `Conditions`.
    func condition(_ name: String, at path: String, depth: Int = 0) throws -> Bool {
        guard let node = conditions[name] else { throw TemplateError("\(path): no condition named `\(name)` in Conditions.") }
        guard depth < 32 else { throw TemplateError("\(path): the condition `\(name)` refers to itself.") }
        return try evaluate(node, at: "Conditions.\(name)", depth: depth + 1)
    }

    /// A condition expression: `!Equals`, `!Not`, `!And`, `!Or` (short or long form) or `{Condition: Name}`.
    private func evaluate(_ node: Node, at path: String, depth: Int) throws -> Bool {
        var name: String
        var argument: Node
        let tag = node.tag.description
        if tag.hasPrefix("!") {
            name = String(tag.dropFirst())
            argument = node
        } else if case .mapping(let map) = node, map.count == 1, let key = map.first?.key.string {
            name = key.hasPrefix("Fn::") ? String(key.dropFirst(4)) : key
            argument = map.first!.value
        } else {
            throw TemplateError("\(path): a condition is Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition.")
        }
        if name == "Condition" {
            guard let ref = argument.string else { throw TemplateError("\(path): Condition takes a name.") }
            return try condition(ref, at: path, depth: depth)
        }
        guard case .sequence(let seq) = argument else { throw TemplateError("\(path): \(name) takes a list.") }
        let items = Array(seq)
        switch name {
        case "Equals":
            guard items.count == 2 else { throw TemplateError("\(path): Equals takes two values.") }
            return try resolve(items[0], at: path).textValue == resolve(items[1], at: path).textValue
        case "Not":
            guard items.count == 1 else { throw TemplateError("\(path): Not takes one condition.") }
            return try !evaluate(items[0], at: path, depth: depth)
        case "And":
            return try items.allSatisfy { try evaluate($0, at: path, depth: depth) }
        case "Or":
            return try items.contains { try evaluate($0, at: path, depth: depth) }
        default:
            throw TemplateError("\(path): \(name) is not a condition function.")
        }
    }

    private func intrinsic(_ name: String, argument node: Node, tagged: Bool, at path: String) throws -> JSONValue {
        if name == "If" {
            let items = try rawItems(node, name: "If", count: 3, at: path)
            guard let conditionName = items[0].string else { throw TemplateError("\(path): If takes [condition, value if true, value if false].") }
            return try resolve(condition(conditionName, at: path) ? items[1] : items[2], at: path)
        }
        let arg = try argument(node, tagged: tagged, at: path)
        switch name {
        case "Ref":
            guard let ref = arg.stringValue else { throw TemplateError("\(path): Ref takes a name.") }
            if ref == "AWS::NoValue" { return Self.noValue }
            let value = try reference(ref, at: path)
            if lists.contains(ref) && parameters[ref] != nil {
                return .array(value.split(separator: ",", omittingEmptySubsequences: false)
                    .map { .string($0.trimmingCharacters(in: .whitespaces)) })
            }
            return .string(value)
        case "Split":
            guard let a = arg.arrayValue, a.count == 2, let sep = a[0].stringValue, !sep.isEmpty else {
                throw TemplateError("\(path): Split takes [delimiter, string].")
            }
            return .array(a[1].textValue.components(separatedBy: sep).map { .string($0) })
        case "Sub":
            if let s = arg.stringValue { return .string(try substitute(s, extra: [:], at: path)) }
            guard let a = arg.arrayValue, a.count == 2, let s = a[0].stringValue else {
                throw TemplateError("\(path): Sub takes a string or [string, {variables}].")
            }
            let extra = (a[1].objectValue ?? [:]).mapValues(\.textValue)
            return .string(try substitute(s, extra: extra, at: path))
        case "GetAtt":
            let parts: [String] = arg.stringValue.map { $0.split(separator: ".", maxSplits: 1).map(String.init) }
                ?? arg.arrayValue?.map(\.textValue) ?? []
            guard parts.count == 2 else { throw TemplateError("\(path): GetAtt takes Resource.Attribute.") }
            return .string(getAtt(parts[0], parts[1]))
        case "Join":
            guard let a = arg.arrayValue, a.count == 2, let sep = a[0].stringValue, let items = a[1].arrayValue else {
                throw TemplateError("\(path): Join takes [delimiter, [values]].")
            }
            return .string(items.map(\.textValue).joined(separator: sep))
        case "Select":
            guard let a = arg.arrayValue, a.count == 2, let items = a[1].arrayValue,
                  let i = a[0].intValue ?? Int(a[0].textValue), items.indices.contains(i) else {
                throw TemplateError("\(path): Select takes [index, [values]] with the index in range.")
            }
            return items[i]
        default:
            throw TemplateError("\(path): the intrinsic function \(name) is not supported by the emulator.")
        }
    }

    private func reference(_ name: String, at path: String) throws -> String {
        if let v = parameters[name] { return v }
        if let v = Self.pseudo[name] { return v }
        if resources.contains(name) { return name }
        if declared.contains(name) {
            throw TemplateError("\(path): the parameter `\(name)` has no value here: give it with --parameter-overrides \(name)=... (or in the template's Metadata.Emulator.Parameters).")
        }
        throw TemplateError("\(path): Ref to unknown parameter or resource `\(name)`.")
    }

    private func getAtt(_ resource: String, _ attribute: String) -> String {
        attribute == "Arn" ? "arn:aws:lambda:us-east-1:123456789012:function:\(resource)" : "\(resource).\(attribute)"
    }

    private func substitute(_ s: String, extra: [String: String], at path: String) throws -> String {
        var out = ""
        var rest = Substring(s)
        while let open = rest.range(of: "${") {
            out += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            if after.hasPrefix("!") {  // `${!Literal}` is written out as `${Literal}`
                guard let close = after.firstIndex(of: "}") else { break }
                out += "${" + after[after.index(after: after.startIndex)..<close] + "}"
                rest = after[after.index(after: close)...]
                continue
            }
            guard let close = after.firstIndex(of: "}") else {
                throw TemplateError("\(path): unterminated ${ in Sub.")
            }
            let name = String(after[..<close])
            if let v = extra[name] {
                out += v
            } else if name.contains("."), !name.hasPrefix("AWS::") {
                let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
                out += getAtt(parts[0], parts[1])
            } else {
                out += try reference(name, at: path)
            }
            rest = after[after.index(after: close)...]
        }
        return out + rest
    }
}

extension Template {
    /// `--runtime-api NAME`: serve these functions (logical id, FunctionName or handler; `all`
    /// for every one) through the Lambda Runtime API instead of the stdio protocol.
    package mutating func useRuntimeAPI(for names: [String]) throws {
        for name in names {
            if name == "all" {
                for i in functions.indices { functions[i].interface = .runtimeAPI }
                continue
            }
            guard let target = function(named: name) else {
                throw TemplateError("--runtime-api \(name): no such function (known: \(functions.map(\.logicalId).joined(separator: ", "))).")
            }
            for i in functions.indices where functions[i].logicalId == target.logicalId { functions[i].interface = .runtimeAPI }
        }
    }
}
