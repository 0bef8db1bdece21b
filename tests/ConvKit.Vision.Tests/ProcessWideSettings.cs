namespace ConvKit.Vision.Tests;

/// <summary>
/// Tests that change process-wide settings (the thread count that <c>convkit train --threads</c> and <c>convkit eval</c>
/// set, environment variables) run in this collection: xunit runs it after every parallel collection, alone, so no
/// other test runs under their settings.
/// </summary>
[CollectionDefinition(nameof(ProcessWideSettings), DisableParallelization = true)]
public sealed class ProcessWideSettings;
