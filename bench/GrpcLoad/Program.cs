using System.Globalization;
using GrpcLoad;

// GrpcLoad unary ADDRESS CALLERS SECONDS: CALLERS concurrent Hello callers for SECONDS, no retry policy.
// GrpcLoad streams ADDRESS COUNT TIMEOUT: COUNT Ticks streams followed until each ends, then reopened.
// Each prints its results as JSON lines on stdout; build/bench.py reads them.
if (args.Length != 4 || !Uri.TryCreate(args[1], UriKind.Absolute, out var address)
    || !int.TryParse(args[2], CultureInfo.InvariantCulture, out int count) || count < 1
    || !double.TryParse(args[3], CultureInfo.InvariantCulture, out double seconds) || seconds <= 0)
{
    Console.Error.WriteLine("usage: GrpcLoad unary ADDRESS CALLERS SECONDS | GrpcLoad streams ADDRESS COUNT TIMEOUT_SECONDS");
    return 2;
}

switch (args[0])
{
    case "unary":
        await UnaryLoad.RunAsync(address, count, TimeSpan.FromSeconds(seconds));
        return 0;
    case "streams":
        await StreamEndings.RunAsync(address, count, TimeSpan.FromSeconds(seconds));
        return 0;
    default:
        Console.Error.WriteLine($"unknown mode '{args[0]}': unary or streams");
        return 2;
}
