namespace ConvKit.Tests;

/// <summary>
/// Tests that change process-wide settings (<see cref="ConvKit.Backends.Cpu.Threading.NumThreads"/>) run in this
/// collection: xunit runs it after every parallel collection, alone, so no other test runs under their settings.
/// </summary>
[CollectionDefinition(nameof(ProcessWideSettings), DisableParallelization = true)]
public sealed class ProcessWideSettings;
