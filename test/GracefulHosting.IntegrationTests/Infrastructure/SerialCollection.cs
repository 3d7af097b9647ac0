namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>
/// The tests that run alone, one at a time, after the parallel ones: tests that assert how long
/// something takes (other tests would steal their CPU), that count processes or sample /proc at a
/// high rate, that briefly make a descriptor of the test process inheritable (a process another test
/// started meanwhile would inherit it too), and heavy ones such as the restart churn, which would
/// slow the others down.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial";
}
