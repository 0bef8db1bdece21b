using ConvKit.NN;

namespace ConvKit.Vision.Models;

/// <summary>The named architectures, for the command line and anything else that picks a model by name.</summary>
public static class ModelZoo
{
    static readonly SortedDictionary<string, (string Description, Func<int, int, Module> Create)> builders = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Adds a builder taking (input channels, number of classes).</summary>
    public static void Register(string name, string description, Func<int, int, Module> create) => builders[name] = (description, create);

    public static IEnumerable<(string Name, string Description)> Models => builders.Select(b => (b.Key, b.Value.Description));

    /// <summary>A fresh model; an unknown name throws, listing the known ones.</summary>
    public static Module Create(string name, int inChannels = 3, int numClasses = 1000) =>
        builders.TryGetValue(name, out var entry) ? entry.Create(inChannels, numClasses)
        : throw new ArgumentException($"unknown model '{name}'; known models: {string.Join(", ", builders.Keys)}");
}
