namespace ConvKit.IO;

/// <summary>
/// The one check every reader makes before opening a file the user named, so that what goes wrong is said in the
/// user's words: a missing file "does not exist", a folder given where a file is wanted "is a folder, not a file".
/// </summary>
public static class InputFiles
{
    /// <summary>
    /// Throws unless <paramref name="path"/> is an existing file: a <see cref="FileNotFoundException"/> saying that
    /// <paramref name="what"/> (e.g. "image", "checkpoint") does not exist, or is a folder.
    /// </summary>
    public static void Require(string path, string what)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (File.Exists(path)) return;
        if (Directory.Exists(path))
            throw new FileNotFoundException($"{what} '{path}' is a folder, not a file; name a file in it.", path);
        throw new FileNotFoundException($"{what} '{path}' does not exist.", path);
    }
}
