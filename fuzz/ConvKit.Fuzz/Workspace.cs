using SkiaSharp;

namespace ConvKit.Fuzz;

/// <summary>
/// The folder a target writes its input into (the readers take paths), with the fixed files the annotation readers
/// need beside the fuzzed one: a 16×12 PNG <c>images/a.png</c>. <c>FUZZ_WORKDIR</c> chooses it (scripts/fuzz.sh puts
/// it under the findings folder); otherwise a new temporary folder.
/// </summary>
sealed class Workspace
{
    public required string Root { get; init; }
    public string Images => Path.Combine(Root, "images");

    public static Workspace Create()
    {
        string root = Environment.GetEnvironmentVariable("FUZZ_WORKDIR") is { Length: > 0 } dir
            ? Path.Combine(dir, $"p{Environment.ProcessId}")
            : Path.Combine(Path.GetTempPath(), $"convkit-fuzz-{Environment.ProcessId}");
        var workspace = new Workspace { Root = root };
        Directory.CreateDirectory(workspace.Images);
        File.WriteAllBytes(Path.Combine(workspace.Images, "a.png"), Png(16, 12));
        return workspace;
    }

    /// <summary>A fresh, empty folder <paramref name="name"/> in the workspace.</summary>
    public string Folder(string name)
    {
        string path = Path.Combine(Root, name);
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="name"/> in the workspace and returns its path.</summary>
    public string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(Root, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A <paramref name="width"/> × <paramref name="height"/> RGB gradient as PNG bytes.</summary>
    public static byte[] Png(int width, int height) => Encode(width, height, SKEncodedImageFormat.Png);

    public static byte[] Encode(int width, int height, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)(x * 255 / width), (byte)(y * 255 / height), (byte)((x + y) * 7)));
        using var data = bitmap.Encode(format, 90);
        return data.ToArray();
    }
}
