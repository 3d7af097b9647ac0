namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>
/// The tests that run alone, one at a time, after the parallel ones: tests that assert how long
/// something takes (other tests would steal their CPU), that count processes or sample /proc at a
/// high rate, that briefly make a descriptor of the test process inheritable (a process another test
/// started meanwhile would inherit it too), and heavy ones, which would slow the others down. The
/// Native AOT tests and the restart churn run alone in a collection of their own.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial";
}
