namespace ConvKit.Cli.Commands;

/// <summary>The checks the training commands make on their numbers, in the words of the options the user typed.</summary>
static class TrainingArguments
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the first option with a value training cannot use.</summary>
    public static void Check(int epochs, int batchSize, double learningRate, double? weightDecay = null)
    {
        if (epochs < 1) throw new ArgumentException($"--epochs must be at least 1, not {epochs}.");
        if (batchSize < 1) throw new ArgumentException($"--batch-size must be at least 1, not {batchSize}.");
        if (!(learningRate > 0 && double.IsFinite(learningRate))) throw new ArgumentException($"--lr must be a positive number, not {learningRate}.");
        if (weightDecay is { } decay && !(decay >= 0 && double.IsFinite(decay)))
            throw new ArgumentException($"--weight-decay must be a number ≥ 0, not {decay}.");
    }
}
