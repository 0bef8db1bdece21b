namespace ConvKit.IO;

/// <summary>
/// The one check every writer makes before creating a file the user named: a folder given where a file is wanted is
/// refused in words (not "Access to the path is denied"), and missing folders on the way are created, as
/// <c>convkit train --out</c> creates its folder.
/// </summary>
public static class OutputFiles
{
    /// <summary>
    /// Makes <paramref name="path"/> ready to be written: throws an <see cref="IOException"/> naming
    /// <paramref name="what"/> (e.g. "picture", "ONNX file") when it is a folder, and creates its parent folders.
    /// </summary>
    /// <param name="example">a file name to suggest inside the folder, e.g. "edges.png"</param>
    public static void Prepare(string path, string what, string example)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path) || path.EndsWith(Path.DirectorySeparatorChar) || path.EndsWith(Path.AltDirectorySeparatorChar))
            throw new IOException($"the {what} to write, '{path}', is a folder; name a file, e.g. '{Path.Combine(path, example)}'.");
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder != null) Directory.CreateDirectory(folder);
    }
}
