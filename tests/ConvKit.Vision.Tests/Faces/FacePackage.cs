using ConvKit.Vision.Faces;
using ConvKit.Vision.Pretrained;
using Xunit.Sdk;

namespace ConvKit.Vision.Tests.Faces;

/// <summary>
/// The real face-api package for the tests of the real models: taken from the pretrained-weights cache, never from the
/// network. When it is not there the tests fail (they do not skip), saying how to install it.
/// </summary>
static class FacePackage
{
    static readonly Lazy<string?> folder = new(() => new PretrainedStore().FindCached(PretrainedPackage.FaceApi));
    static readonly Lazy<FaceModels> models = new(() => FaceModels.FromPackage(Folder));

    /// <summary>The unpacked package's folder; fails the test when the package is not in the cache.</summary>
    public static string Folder => folder.Value ?? throw new XunitException(
        $"the face models' package {PretrainedPackage.FaceApi} is not in the pretrained-weights cache " +
        $"({new PretrainedStore().PackageDirectory(PretrainedPackage.FaceApi)}). Install it with 'bash scripts/setup.sh' or " +
        $"'./convkit faces fetch' (downloads {PretrainedPackage.FaceApi.TarballUri}, 12.7 MB, and checks its SHA-512); on a machine " +
        $"without network access put face-api-1.7.15.tgz in a folder, set {PretrainedStore.OfflineVariable} to it and run './convkit faces fetch'.");

    /// <summary>The detector and encoder, loaded once for all the tests.</summary>
    public static FaceModels Models => models.Value;

    /// <summary>The path of demo/sample<paramref name="index"/>.jpg.</summary>
    public static string Sample(int index) => Path.Combine(Folder, "demo", $"sample{index}.jpg");

    /// <summary>The synthetic picture of the references: p(y, x, c) = (3x + 5y + 7c) mod 256, as (3, H, W) bytes / 255.</summary>
    public static Tensor Synthetic(int height, int width, bool bytes = false)
    {
        var values = new float[3 * height * width];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    values[(c * height + y) * width + x] = ((3 * x + 5 * y + 7 * c) % 256) / (bytes ? 1f : 255f);
        return Tensor.FromArray(values, 3, height, width);
    }
}
