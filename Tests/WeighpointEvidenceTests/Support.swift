import Foundation
import WeighpointTesting

func tempDir(_ name: String) throws -> URL {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("wp-\(name)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    return d
}

let openssl = "/usr/bin/openssl"

/// The stock command line's verification of `sig` over `body` with `pub` (PLATFORM-NOTES.md).
func opensslVerifies(_ alg: String, pub: String, body: String, sig: String, distid: String = "1234567812345678") throws -> Bool {
    let args: [String]
    switch alg {
    case "sm2": args = ["dgst", "-sm3", "-verify", pub, "-sigopt", "distid:\(distid)", "-signature", sig, body]
    case "p256": args = ["dgst", "-sha256", "-verify", pub, "-signature", sig, body]
    default: args = ["pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in", body, "-sigfile", sig]
    }
    let r = try runProcess(openssl, args)
    return r.status == 0 && r.stdout.contains("Verified")
}
