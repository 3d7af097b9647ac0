using GracefulHosting.Master;

namespace GracefulHosting.Tests.Master;

public class CrashBackoffTests
{
    private static readonly TimeSpan Initial = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(int.MinValue)]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(1)]
    public void Delay_FirstAttemptOrLess_Zero(int attempt)
    {
        Assert.Equal(TimeSpan.Zero, CrashBackoff.Delay(attempt, Initial, Max));
    }

    [Fact]
    public void Delay_SecondAttempt_Initial()
    {
        Assert.Equal(Initial, CrashBackoff.Delay(2, Initial, Max));
    }

    [Theory]
    [InlineData(3, 2)]
    [InlineData(4, 4)]
    [InlineData(5, 8)]
    [InlineData(6, 16)]
    public void Delay_LaterAttempts_DoubleEachTime(int attempt, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), CrashBackoff.Delay(attempt, Initial, Max));
    }

    [Theory]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(100)]
    public void Delay_PastTheCap_Max(int attempt)
    {
        Assert.Equal(Max, CrashBackoff.Delay(attempt, Initial, Max));
    }

    [Fact]
    public void Delay_Sequence_NeverDecreasesAndNeverExceedsMax()
    {
        var previous = TimeSpan.Zero;
        for (int attempt = 1; attempt <= 200; attempt++)
        {
            var delay = CrashBackoff.Delay(attempt, TimeSpan.FromMilliseconds(300), Max);
            Assert.True(delay >= previous, $"attempt {attempt}: {delay} < {previous}");
            Assert.True(delay <= Max, $"attempt {attempt}: {delay} > {Max}");
            previous = delay;
        }

        Assert.Equal(Max, previous);
    }

    [Theory]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(1000)]
    [InlineData(int.MaxValue)]
    public void Delay_HugeAttempt_CappedWithoutOverflow(int attempt)
    {
        Assert.Equal(Max, CrashBackoff.Delay(attempt, Initial, Max));
        Assert.Equal(TimeSpan.FromDays(1), CrashBackoff.Delay(attempt, TimeSpan.FromDays(1), TimeSpan.FromDays(1)));
        Assert.Equal(TimeSpan.FromDays(1), CrashBackoff.Delay(attempt, TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1)));
    }

    [Fact]
    public void Delay_TinyInitialAndManyAttempts_ReachesMax()
    {
        Assert.Equal(TimeSpan.FromDays(1), CrashBackoff.Delay(100, TimeSpan.FromTicks(1), TimeSpan.FromDays(1)));
    }

    [Fact]
    public void Delay_MaxIsTimeSpanMaxValue_DoesNotWrapNegative()
    {
        var delay = CrashBackoff.Delay(int.MaxValue, TimeSpan.FromDays(1), TimeSpan.MaxValue);

        Assert.True(delay > TimeSpan.FromDays(1), delay.ToString());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(10)]
    [InlineData(int.MaxValue)]
    public void Delay_ZeroInitial_Zero(int attempt)
    {
        Assert.Equal(TimeSpan.Zero, CrashBackoff.Delay(attempt, TimeSpan.Zero, Max));
    }

    [Fact]
    public void Delay_InitialAboveMax_Max()
    {
        Assert.Equal(Max, CrashBackoff.Delay(2, TimeSpan.FromMinutes(5), Max));
    }

    [Fact]
    public void Delay_SubMillisecondInitial_ExactTicks()
    {
        Assert.Equal(TimeSpan.FromTicks(12_345 * 4), CrashBackoff.Delay(4, TimeSpan.FromTicks(12_345), Max));
    }
}
