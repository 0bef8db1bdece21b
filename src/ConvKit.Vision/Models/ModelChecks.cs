namespace ConvKit.Vision.Models;

/// <summary>Argument checks every model constructor shares; messages name the model and the bad value.</summary>
static class ModelChecks
{
    public static void Positive(string model, string name, int value)
    {
        if (value < 1) throw new ArgumentOutOfRangeException(name, $"{model}: {name} must be positive, got {value}.");
    }

    public static void ClassesAndChannels(string model, int numClasses, int inChannels)
    {
        Positive(model, "numClasses", numClasses);
        Positive(model, "inChannels", inChannels);
    }

    public static string Format(IReadOnlyList<int> shape) => "[" + string.Join(", ", shape) + "]";
}
