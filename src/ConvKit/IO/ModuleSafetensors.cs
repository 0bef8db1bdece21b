using ConvKit.NN;

namespace ConvKit.IO;

/// <summary>Saving and loading a module's state dict (parameters and buffers by PyTorch name) as safetensors.</summary>
public static class ModuleSafetensors
{
    /// <summary>Writes <paramref name="module"/>'s state dict to <paramref name="path"/> (atomically, see <see cref="Safetensors.Save"/>).</summary>
    public static void SaveSafetensors(this Module module, string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        Safetensors.Save(path, module.StateDict(), metadata);

    /// <summary>
    /// Loads <paramref name="path"/> into <paramref name="module"/> by name (see <see cref="Module.LoadStateDict"/>): with
    /// <paramref name="strict"/>, missing or unexpected names throw; shape mismatches always do. Nothing changes on failure.
    /// </summary>
    public static StateDictLoadResult LoadSafetensors(this Module module, string path, bool strict = true)
    {
        var state = Safetensors.Load(path);
        try { return module.LoadStateDict(state, strict); }
        catch (ArgumentException e) { throw new ArgumentException($"LoadSafetensors '{path}': {e.Message}", e); }
    }
}
