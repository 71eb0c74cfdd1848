import XCTest
import Datasets
import Kernels

/// Random crop with padding and horizontal flip on hand-checked cases, seeded reproducibility and
/// settings that cannot apply.
final class AugmentationTests: XCTestCase {
    func testFlipAndCropMoveEveryPixelByTheDrawnOffsets() throws {
        // One 1×3×4 image with distinct values; draw the same offsets the augmentation will draw.
        let original: [Float] = (1...12).map(Float.init)
        let augmentation = try Augmentation(cropPadding: 1, horizontalFlip: true)
        for seed in 0..<20 as Range<UInt64> {
            var image = original
            var rng = Xoshiro256(seed: seed)
            var replay = Xoshiro256(seed: seed)
            image.withUnsafeMutableBufferPointer {
                augmentation.apply($0.baseAddress!, count: 1, channels: 1, height: 3, width: 4, rng: &rng)
            }
            let dy = Int(replay.next() % 3) - 1, dx = Int(replay.next() % 3) - 1, flip = (replay.next() & 1) == 1
            for y in 0..<3 {
                for x in 0..<4 {
                    let sy = y + dy, sx = (flip ? 3 - x : x) + dx
                    let expected: Float = (0..<3).contains(sy) && (0..<4).contains(sx) ? original[sy * 4 + sx] : 0
                    XCTAssertEqual(image[y * 4 + x], expected, "seed \(seed) (\(y), \(x))")
                }
            }
            XCTAssertEqual(rng.state, replay.state, "the augmentation draws exactly three numbers per image")
        }
    }

    func testIdentityDrawsNothingAndChangesNothing() throws {
        var image: [Float] = [1, 2, 3, 4]
        var rng = Xoshiro256(seed: 1)
        let before = rng.state
        let identity = try Augmentation()
        image.withUnsafeMutableBufferPointer {
            identity.apply($0.baseAddress!, count: 1, channels: 1, height: 2, width: 2, rng: &rng)
        }
        XCTAssertEqual(image, [1, 2, 3, 4])
        XCTAssertEqual(rng.state, before)
    }

    func testSettingsThatCannotApplyAreRefused() throws {
        XCTAssertThrowsError(try Augmentation(cropPadding: -1))
        let tiny = ImageDataset(name: "tiny", classNames: ["a", "b"], channels: 1, height: 3, width: 1,
                                images: [0, 0, 0], labels: [0])
        XCTAssertThrowsError(try Augmentation(cropPadding: 3).validate(for: tiny)) { XCTAssertTrue("\($0)".contains("3×1")) }
        XCTAssertThrowsError(try Augmentation(horizontalFlip: true).validate(for: tiny))
    }
}
