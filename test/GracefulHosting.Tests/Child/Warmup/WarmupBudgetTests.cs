using GracefulHosting.Child.Warmup;
using Microsoft.Extensions.Time.Testing;

namespace GracefulHosting.Tests.Child.Warmup;

public class WarmupBudgetTests
{
    [Theory]
    [InlineData(60, 5, 54)]
    [InlineData(5, 2, 2.5)]
    [InlineData(5, 10, 0)]
    public void Remaining_StartTimeoutLessUptimeAndMargin(double timeout, double uptime, double expected)
    {
        Assert.Equal(TimeSpan.FromSeconds(expected), WarmupBudget.Remaining(TimeSpan.FromSeconds(timeout), TimeSpan.FromSeconds(uptime)));
    }

    [Fact]
    public void Token_TimeUp_CancelledAndExpired()
    {
        var time = new FakeTimeProvider();
        using var budget = new WarmupBudget(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2), time, CancellationToken.None);

        time.Advance(TimeSpan.FromSeconds(6.9));
        Assert.False(budget.Token.IsCancellationRequested);
        time.Advance(TimeSpan.FromSeconds(0.1));

        Assert.True(budget.Token.IsCancellationRequested);
        Assert.True(budget.Expired);
    }

    [Fact]
    public void Token_AppStops_CancelledButNotExpired()
    {
        using var stopping = new CancellationTokenSource();
        using var budget = new WarmupBudget(TimeSpan.FromSeconds(10), TimeSpan.Zero, new FakeTimeProvider(), stopping.Token);

        stopping.Cancel();

        Assert.True(budget.Token.IsCancellationRequested);
        Assert.False(budget.Expired);
    }
}
