import Foundation

/// Small real PDFs written by hand with a correct cross-reference table.
package enum PDFFixture {
    /// One page per element of `pages`, each line drawn with Helvetica (ASCII text).
    package static func text(_ pages: [[String]]) -> [UInt8] {
        var objects: [String] = []
        let pageIds = pages.indices.map { 4 + 2 * $0 }
        objects.append("<< /Type /Catalog /Pages 2 0 R >>")
        objects.append("<< /Type /Pages /Kids [\(pageIds.map { "\($0) 0 R" }.joined(separator: " "))] /Count \(pages.count) >>")
        objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        for (k, lines) in pages.enumerated() {
            var stream = "BT /F1 12 Tf 72 720 Td 16 TL\n"
            for line in lines { stream += "(\(escape(line))) Tj T*\n" }
            stream += "ET"
            objects.append("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents \(pageIds[k] + 1) 0 R /Resources << /Font << /F1 3 0 R >> >> >>")
            objects.append("<< /Length \(stream.utf8.count) >>\nstream\n\(stream)\nendstream")
        }
        return assemble(objects)
    }

    /// A page with a 1x1 grey image and a filled rectangle: nothing to extract.
    package static func imageOnly() -> [UInt8] {
        let content = "q 100 0 0 100 72 600 cm /Im1 Do Q 0 0 1 rg 72 400 100 100 re f"
        return assemble([
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /XObject << /Im1 5 0 R >> >> >>",
            "<< /Length \(content.utf8.count) >>\nstream\n\(content)\nendstream",
            "<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length 1 >>\nstream\n\u{7F}\nendstream",
        ])
    }

    /// A PDF encrypted with the standard security handler (RC4 40-bit, revision 2) and the
    /// user password `secret`; its page says "Hello PDF world. Second sentence here.".
    /// Made with a 60-line Python script (MD5 + RC4 per PDF 1.4 §3.5); no tool here writes one.
    package static let encrypted: [UInt8] = [UInt8](Data(base64Encoded: """
        JVBERi0xLjQKMSAwIG9iago8PCAvVHlwZSAvQ2F0YWxvZyAvUGFnZXMgMiAwIFIgPj4KZW5kb2JqCjIgMCBvYmoKPDwgL1R5cGUg\
        L1BhZ2VzIC9LaWRzIFszIDAgUl0gL0NvdW50IDEgPj4KZW5kb2JqCjMgMCBvYmoKPDwgL1R5cGUgL1BhZ2UgL1BhcmVudCAyIDAg\
        UiAvTWVkaWFCb3ggWzAgMCA2MTIgNzkyXSAvQ29udGVudHMgNCAwIFIgL1Jlc291cmNlcyA8PCAvRm9udCA8PCAvRjEgNSAwIFIg\
        Pj4gPj4gPj4KZW5kb2JqCjQgMCBvYmoKPDwgL0xlbmd0aCA2OSA+PgpzdHJlYW0KgLog49OIEkW89M/ChPLSOe67qOMSvxNTcrVp\
        Qyze+ppjbO7xVmcHwiFyBLn/3BXuSu88KT3Swxfj0dGUo/Nio20lKrmsCmVuZHN0cmVhbQplbmRvYmoKNSAwIG9iago8PCAvVHlw\
        ZSAvRm9udCAvU3VidHlwZSAvVHlwZTEgL0Jhc2VGb250IC9IZWx2ZXRpY2EgPj4KZW5kb2JqCjYgMCBvYmoKPDwgL0ZpbHRlciAv\
        U3RhbmRhcmQgL1YgMSAvUiAyIC9PIDw5MmZlMGY0NDU0YWQ0Yzk2NDQ2OTNmMzNjMDdjYjU0ZjU4N2RjZTFlMjY4MmZlOWVjZWE2\
        MTA3YTFlZjYzMGRkPiAvVSA8ODEyZTcxMjQxZTNjNjRjODUwYzQwOWUzNDZmNWZjYjUyYzg4NDUzYTY5YTBhYWU3MWQ5NWFmZWIy\
        OGI3ZDQ1Yz4gL1AgLTQ0ID4+CmVuZG9iagp4cmVmCjAgNwowMDAwMDAwMDAwIDY1NTM1IGYgCjAwMDAwMDAwMDkgMDAwMDAgbiAK\
        MDAwMDAwMDA1OCAwMDAwMCBuIAowMDAwMDAwMTE1IDAwMDAwIG4gCjAwMDAwMDAyNDEgMDAwMDAgbiAKMDAwMDAwMDM2MCAwMDAw\
        MCBuIAowMDAwMDAwNDMwIDAwMDAwIG4gCnRyYWlsZXIKPDwgL1NpemUgNyAvUm9vdCAxIDAgUiAvRW5jcnlwdCA2IDAgUiAvSUQg\
        WzwzMDMxMzIzMzM0MzUzNjM3MzgzOTYxNjI2MzY0NjU2Nj48MzAzMTMyMzMzNDM1MzYzNzM4Mzk2MTYyNjM2NDY1NjY+XSA+Pgpz\
        dGFydHhyZWYKNjI2CiUlRU9GCg==
        """)!)

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "(", with: "\\(").replacingOccurrences(of: ")", with: "\\)")
    }

    /// Header, numbered objects, xref with the byte offset of each, trailer.
    private static func assemble(_ objects: [String]) -> [UInt8] {
        var out: [UInt8] = Array("%PDF-1.4\n%\u{E2}\u{E3}\u{CF}\u{D3}\n".utf8)
        var offsets: [Int] = []
        for (k, body) in objects.enumerated() {
            offsets.append(out.count)
            out += Array("\(k + 1) 0 obj\n".utf8) + Array(body.utf8) + Array("\nendobj\n".utf8)
        }
        let xref = out.count
        var table = "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        for o in offsets { table += String(repeating: "0", count: 10 - String(o).count) + "\(o) 00000 n \n" }
        table += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        return out + Array(table.utf8)
    }
}
