#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A minimal Redis client: RESP2 over one blocking TCP connection, the commands the query-vector
/// cache needs (`AUTH`, `SELECT`, `GET`, `MGET`, `SET ... EX`, `PING`). Written here because no
/// Redis package is in the mirror (RediStack is not); RESP is a few dozen lines, and the cache
/// path is a request and a reply on a warm connection, so blocking I/O under a lock costs a
/// round trip (~0.1 ms on loopback) and no event loop. A broken connection is reopened once per
/// command.
package final class RedisConnection: Sendable {
    package struct Failure: Error, CustomStringConvertible, Equatable {
        package var description: String
        package init(description: String) { self.description = description }
    }

    /// A reply, as RESP2 has them.
    package enum Reply: Sendable, Equatable {
        case simple(String)
        case error(String)
        case integer(Int)
        case bulk([UInt8]?)
        case array([Reply]?)
    }

    let host: String
    let port: Int
    let password: String?
    let database: Int
    let timeout: Duration
    private let socket = Mutex<Int32>(-1)

    /// `redis://[:password@]host[:port][/db]`.
    package init(url: String, timeout: Duration = .milliseconds(500)) throws(Failure) {
        guard let c = URLComponents(string: url), c.scheme == "redis", let host = c.host, !host.isEmpty else {
            throw Failure(description: "REDIS_URL must look like redis://[:password@]host[:port][/db], not `\(url)`")
        }
        self.host = host
        port = c.port ?? 6379
        password = c.password.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding }
        let path = c.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard path.isEmpty || Int(path) != nil else { throw Failure(description: "REDIS_URL's database must be a number, not `\(path)`") }
        database = Int(path) ?? 0
        self.timeout = timeout
    }

    deinit {
        let fd = socket.withLock { $0 }
        if fd >= 0 { close(fd) }
    }

    /// Sends one command and reads its reply; a Redis error reply is returned, not thrown.
    package func command(_ args: [[UInt8]]) throws(Failure) -> Reply {
        try socket.withLock { (fd: inout Int32) throws(Failure) -> Reply in
            for attempt in 0..<2 {
                do throws(Failure) {
                    if fd < 0 { fd = try open() }
                    try Self.send(fd, args)
                    var reader = Reader(fd: fd)
                    return try reader.reply()
                } catch {
                    close(fd)
                    fd = -1
                    if attempt == 1 { throw error }
                }
            }
            throw Failure(description: "unreachable")
        }
    }

    package func command(_ args: String...) throws(Failure) -> Reply {
        try command(args.map { Array($0.utf8) })
    }

    private func open() throws(Failure) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw Failure(description: "cannot resolve Redis host \(host)")
        }
        defer { freeaddrinfo(list) }
        var error = "no address"
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let a = node {
            node = a.pointee.ai_next
            let fd = Glibc.socket(a.pointee.ai_family, a.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), a.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            let ms = Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
            var tv = timeval(tv_sec: ms / 1000, tv_usec: (ms % 1000) * 1000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 {
                do {
                    if let password { try Self.expectOK(fd, ["AUTH", password]) }
                    if database != 0 { try Self.expectOK(fd, ["SELECT", String(database)]) }
                } catch {
                    close(fd)
                    throw error
                }
                return fd
            }
            error = String(cString: strerror(errno))
            close(fd)
        }
        throw Failure(description: "cannot connect to Redis at \(host):\(port): \(error)")
    }

    private static func expectOK(_ fd: Int32, _ args: [String]) throws(Failure) {
        try send(fd, args.map { Array($0.utf8) })
        var reader = Reader(fd: fd)
        if case .error(let e) = try reader.reply() { throw Failure(description: "Redis refused \(args[0]): \(e)") }
    }

    private static func send(_ fd: Int32, _ args: [[UInt8]]) throws(Failure) {
        var out: [UInt8] = Array("*\(args.count)\r\n".utf8)
        for a in args {
            out += Array("$\(a.count)\r\n".utf8)
            out += a
            out += [13, 10]
        }
        var off = 0
        while off < out.count {
            let n = out.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, out.count - off, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: "Redis write failed: \(String(cString: strerror(errno)))") }
            off += n
        }
    }

    /// Reads RESP from the socket with a buffer.
    struct Reader {
        let fd: Int32
        var buffer: [UInt8] = []
        var position = 0

        init(fd: Int32) { self.fd = fd }

        mutating func fill() throws(Failure) {
            var chunk = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw Failure(description: n == 0 ? "Redis closed the connection" : "Redis read failed: \(String(cString: strerror(errno)))") }
                buffer += chunk[0..<n]
                return
            }
        }

        mutating func line() throws(Failure) -> String {
            while true {
                if let cr = buffer[position...].firstIndex(of: 13), cr + 1 < buffer.count, buffer[cr + 1] == 10 {
                    let s = String(decoding: buffer[position..<cr], as: UTF8.self)
                    position = cr + 2
                    return s
                }
                try fill()
            }
        }

        mutating func bytes(_ n: Int) throws(Failure) -> [UInt8] {
            while buffer.count - position < n + 2 { try fill() }
            let out = Array(buffer[position..<position + n])
            position += n + 2
            return out
        }

        mutating func reply() throws(Failure) -> Reply {
            let l = try line()
            guard let kind = l.first else { throw Failure(description: "empty Redis reply") }
            let rest = String(l.dropFirst())
            switch kind {
            case "+": return .simple(rest)
            case "-": return .error(rest)
            case ":":
                guard let n = Int(rest) else { throw Failure(description: "bad Redis integer `\(rest)`") }
                return .integer(n)
            case "$":
                guard let n = Int(rest) else { throw Failure(description: "bad Redis bulk length `\(rest)`") }
                return n < 0 ? .bulk(nil) : .bulk(try bytes(n))
            case "*":
                guard let n = Int(rest) else { throw Failure(description: "bad Redis array length `\(rest)`") }
                if n < 0 { return .array(nil) }
                var items: [Reply] = []
                for _ in 0..<n { items.append(try reply()) }
                return .array(items)
            default:
                throw Failure(description: "unknown Redis reply type `\(kind)`")
            }
        }
    }
}
