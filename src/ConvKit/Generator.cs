namespace ConvKit;

/// <summary>
/// A seeded random-number generator whose whole state is one 64-bit number (<see cref="State"/>), so a training
/// run can save it in a checkpoint and resume the exact same stream (System.Random's state cannot be saved).
/// It derives from <see cref="Random"/>, so it goes anywhere a Random is taken. Like torch.manual_seed,
/// <see cref="Use"/> makes it the default source of the initialisers and dropout that were given no Random.
/// The stream is SplitMix64: a counter stepped by the golden ratio and mixed by a 64-bit finaliser.
/// </summary>
public sealed class Generator : Random
{
    // Flows with the execution context (as GradMode does), so a Use scope reaches the code after an await.
    static readonly AsyncLocal<Generator?> current = new();

    /// <summary>A generator whose stream is fixed by <paramref name="seed"/>.</summary>
    public Generator(long seed) => State = Mix((ulong)seed);

    /// <summary>The generator's position in its stream; setting it to a saved value replays the stream from there.</summary>
    public ulong State { get; set; }

    /// <summary>
    /// The default source of randomness here: the generator of the innermost <see cref="Use"/> scope around this code
    /// (across awaits and into tasks started inside it), or
    /// <see cref="Random.Shared"/> outside any scope. Init's initialisers and F.Dropout use it when given no Random.
    /// </summary>
    public static Random Current => current.Value ?? Shared;

    /// <summary>
    /// Makes <paramref name="generator"/> the <see cref="Current"/> of the code inside the scope until it is disposed:
    /// <c>using (Generator.Use(new Generator(42))) model = new Conv2d(1, 6, 5);</c> builds the same weights every time.
    /// </summary>
    public static IDisposable Use(Generator generator)
    {
        var scope = new Scope(current.Value);
        current.Value = generator;
        return scope;
    }

    sealed class Scope(Generator? previous) : IDisposable
    {
        public void Dispose() => current.Value = previous;
    }

    /// <summary>A generator for a sub-stream, e.g. (seed, epoch) or (seed, epoch, sample): its values do not depend on how many were drawn elsewhere.</summary>
    public static Generator For(long seed, params long[] keys)
    {
        ulong state = Mix((ulong)seed);
        foreach (long key in keys) state = Mix(state ^ Mix((ulong)key + 0x632BE59BD9B4E019UL));
        return new Generator(0) { State = state };
    }

    /// <summary>The next 64 uniformly distributed bits.</summary>
    public ulong NextUInt64() => Mix(State += 0x9E3779B97F4A7C15UL);

    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    // Every Random member draws from NextUInt64, so no call reaches System.Random's own (unsaveable) state.
    /// <inheritdoc/>
    protected override double Sample() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
    /// <inheritdoc/>
    public override double NextDouble() => Sample();
    /// <inheritdoc/>
    public override float NextSingle() => (NextUInt64() >> 40) * (1f / (1 << 24));
    /// <inheritdoc/>
    public override int Next() => (int)NextInt64(0, int.MaxValue);
    /// <inheritdoc/>
    public override int Next(int maxValue) => (int)NextInt64(maxValue);
    /// <inheritdoc/>
    public override int Next(int minValue, int maxValue) => (int)NextInt64(minValue, maxValue);
    /// <inheritdoc/>
    public override long NextInt64() => NextInt64(0, long.MaxValue);
    /// <inheritdoc/>
    public override long NextInt64(long maxValue) => NextInt64(0, maxValue);

    /// <inheritdoc/>
    public override long NextInt64(long minValue, long maxValue)
    {
        if (minValue > maxValue) throw new ArgumentOutOfRangeException(nameof(minValue), $"Generator: minValue {minValue} exceeds maxValue {maxValue}.");
        ulong range = (ulong)(maxValue - minValue);
        if (range <= 1) return minValue;
        // Rejection sampling keeps every value equally likely: draws past the last whole multiple of range are redrawn.
        ulong limit = ulong.MaxValue - ulong.MaxValue % range;
        ulong draw;
        do draw = NextUInt64(); while (draw >= limit);
        return minValue + (long)(draw % range);
    }

    /// <inheritdoc/>
    public override void NextBytes(byte[] buffer) => NextBytes(buffer.AsSpan());

    /// <inheritdoc/>
    public override void NextBytes(Span<byte> buffer)
    {
        for (int i = 0; i < buffer.Length; i += 8)
        {
            ulong bits = NextUInt64();
            for (int j = i; j < Math.Min(i + 8, buffer.Length); j++, bits >>= 8) buffer[j] = (byte)bits;
        }
    }
}
