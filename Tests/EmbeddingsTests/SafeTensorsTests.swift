import Embeddings
import Foundation
import TestSupport
import Testing

/// The safetensors reader on hand-made files: good ones read, damaged ones throw the right case.
@Suite struct SafeTensorsTests {
    /// A file with `header` (JSON text, space-padded to 8 bytes as the safetensors library
    /// writes it unless `pad` is false) and `data`, the length prefix computed unless given.
    func file(_ header: String, data: [Float] = [], length: UInt64? = nil, pad: Bool = true) throws -> String {
        var bytes = [UInt8]()
        var h = Array(header.utf8)
        while pad, h.count % 8 != 0 { h.append(0x20) }
        withUnsafeBytes(of: (length ?? UInt64(h.count)).littleEndian) { bytes += $0 }
        bytes += h
        for f in data { withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes += $0 } }
        let path = TestPaths.temporaryDirectory("safetensors") + "/t.safetensors"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func readsF32TensorsWithTheirShapes() throws {
        let path = try file(#"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[1],"data_offsets":[16,20]}}"#,
                            data: [1, 2, 3, 4, 5])
        let st = try SafeTensorsFile(path: path)
        #expect(try st.float32("a", shape: [2, 2]) == [1, 2, 3, 4])
        #expect(try st.float32("b", shape: [1]) == [5])
        #expect(throws: SafeTensorsError.shapeMismatch(tensor: "a", expected: [4], found: [2, 2])) { try st.float32("a", shape: [4]) }
        #expect(throws: SafeTensorsError.tensorMissing("c")) { try st.float32("c", shape: [1]) }
    }

    /// Unpadded header: the data is not float-aligned in the mapping, so it is read from a copy.
    @Test func readsAnUnpaddedHeader() throws {
        let path = try file(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#, data: [1, 2, 3], pad: false)
        #expect(try SafeTensorsFile(path: path).float32("a", shape: [3]) == [1, 2, 3])
    }

    @Test func tooShortForTheLengthPrefix() throws {
        let path = TestPaths.temporaryDirectory("safetensors") + "/short.safetensors"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        #expect { try SafeTensorsFile(path: path) } throws: { e in
            if case .truncated = e as? SafeTensorsError { return true } else { return false }
        }
    }

    @Test func headerLongerThanTheFile() throws {
        let path = try file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: [1], length: 4000)
        #expect { try SafeTensorsFile(path: path) } throws: { e in
            if case .truncated = e as? SafeTensorsError { return true } else { return false }
        }
    }

    @Test func absurdHeaderLength() throws {
        let path = try file("{}", length: UInt64.max)
        #expect { try SafeTensorsFile(path: path) } throws: { e in
            if case .badHeader = e as? SafeTensorsError { return true } else { return false }
        }
    }

    @Test func headerThatIsNotJSON() throws {
        let path = try file("not json at all", data: [1])
        #expect { try SafeTensorsFile(path: path) } throws: { e in
            if case .badHeader = e as? SafeTensorsError { return true } else { return false }
        }
    }

    @Test func entryWithoutOffsets() throws {
        let path = try file(#"{"a":{"dtype":"F32","shape":[1]}}"#, data: [1])
        #expect { try SafeTensorsFile(path: path) } throws: { e in
            if case .badHeader(let m) = e as? SafeTensorsError { return m.contains("a") } else { return false }
        }
    }

    @Test func dataCutShort() throws {
        let path = try file(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: [1, 2])
        #expect { try SafeTensorsFile(path: path) } throws: { e in
            if case .truncated(let m) = e as? SafeTensorsError { return m.contains("a") } else { return false }
        }
    }

    @Test func sizeThatDisagreesWithTheShape() throws {
        let path = try file(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: [1, 2])
        #expect { try SafeTensorsFile(path: path) } throws: { e in
            if case .badHeader = e as? SafeTensorsError { return true } else { return false }
        }
    }

    @Test func wrongDType() throws {
        let path = try file(#"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: [1])
        let st = try SafeTensorsFile(path: path)
        #expect(throws: SafeTensorsError.unsupportedDType(tensor: "a", dtype: "F16")) { try st.float32("a", shape: [2]) }
    }

    @Test func missingFile() {
        #expect(throws: SafeTensorsError.fileMissing("/nonexistent/x.safetensors")) {
            try SafeTensorsFile(path: "/nonexistent/x.safetensors")
        }
    }
}
