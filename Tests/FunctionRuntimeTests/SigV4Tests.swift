import AWSSigV4
import Foundation
import Testing
import TestSupport

/// SigV4 against AWS's documented example and against botocore (the AWS SDK for Python, an
/// independent implementation) signing the very request `invokeAsync` sends.
@Suite struct SigV4Tests {
    @Test func awsDocumentedS3Example() throws {
        // https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html, "GET Object" (a path with
        // nothing to escape, so S3's single encoding and everyone else's double encoding agree).
        let signer = SigV4Signer(credentials: AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE",
                                                             secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                                 region: "us-east-1", service: "s3")
        let headers = signer.sign(method: "GET", url: URL(string: "https://examplebucket.s3.amazonaws.com/test.txt")!,
                                  headers: ["Range": "bytes=0-9"], date: Date(timeIntervalSince1970: 1_369_353_600),
                                  contentSha256Header: true)
        #expect(headers["X-Amz-Date"] == "20130524T000000Z")
        #expect(headers["Authorization"] == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test(arguments: ["my-stack-reembed", "arn:aws:lambda:eu-west-1:123456789012:function:reembed", "fn?odd name"])
    func matchesBotocoreOnALambdaInvoke(_ function: String) async throws {
        let body = #"{"job_id":"j1","org_id":"acme"}"#
        let url = "https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions/\(SigV4Signer.uriEncode(function))/invocations"
        let script = """
            import datetime, json, sys
            from unittest import mock
            import botocore.auth, botocore.awsrequest, botocore.credentials
            creds = botocore.credentials.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token/with+chars=")
            req = botocore.awsrequest.AWSRequest(method="POST", url=sys.argv[1], data=sys.argv[2].encode(),
                headers={"Content-Type": "application/json", "X-Amz-Invocation-Type": "Event"})
            with mock.patch("botocore.auth.get_current_datetime", return_value=datetime.datetime(2026, 11, 22, 1, 2, 3)):
                botocore.auth.SigV4Auth(creds, "lambda", "eu-west-1").add_auth(req)
            print(json.dumps(dict(req.headers.items())))
            """
        let child = try ChildProcess("/usr/bin/env", arguments: ["python3", "-c", script, url, body])
        child.closeStdin()
        let line = await child.readLine(timeout: 60) ?? ""
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "\(child.stderr)")

        let signer = SigV4Signer(credentials: AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                                             sessionToken: "token/with+chars="),
                                 region: "eu-west-1", service: "lambda")
        let ours = signer.sign(method: "POST", url: URL(string: url)!,
                               headers: ["Content-Type": "application/json", "X-Amz-Invocation-Type": "Event"],
                               body: Data(body.utf8), date: Date(timeIntervalSince1970: 1_795_309_323))
        #expect(ours["X-Amz-Date"] == "20261122T010203Z")
        #expect(ours["Authorization"] == expected["Authorization"], "\(line)")
        #expect(ours["X-Amz-Security-Token"] == expected["X-Amz-Security-Token"])
    }

    @Test func timestampsAcrossCenturiesAndLeapDays() {
        let cases: [(Double, String)] = [(0, "19700101T000000Z"), (951_782_400, "20000229T000000Z"), (4_102_444_799, "20991231T235959Z"), (4_107_542_399, "21000228T235959Z"),
                                         (1_709_164_800 + 86_399, "20240229T235959Z")]
        for (t, s) in cases {
            let h = SigV4Signer(credentials: AWSCredentials(accessKeyId: "a", secretAccessKey: "b"), region: "r", service: "s")
                .sign(method: "GET", url: URL(string: "https://x/")!, date: Date(timeIntervalSince1970: t))
            #expect(h["X-Amz-Date"] == s)
        }
    }
}
