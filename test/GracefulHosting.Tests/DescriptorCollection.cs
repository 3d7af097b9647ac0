namespace GracefulHosting.Tests;

/// <summary>Tests that close descriptors by number; they run alone so no other test reuses a number meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DescriptorCollection
{
    public const string Name = "Descriptors closed by number";
}
