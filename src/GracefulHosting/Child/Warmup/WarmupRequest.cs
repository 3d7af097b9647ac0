using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace GracefulHosting.Child.Warmup;

// Key names the request in messages; ExpectedClass is the status's first digit (2 for 2xx), or null when any status will do.
internal sealed record WarmupRequest(string Key, string Method, string Target, IReadOnlyList<KeyValuePair<string, string>> Headers, int? ExpectedClass, int Repeat)
{
    private const int WarmupPathRepeat = 2;

    public string Description => Method == "GET" ? Target : $"{Method} {Target}";

    // Without a list, two GETs of WarmupPath that accept any status; a header part that is not set fails the warm-up.
    public static IReadOnlyList<WarmupRequest> FromOptions(GracefulRestartOptions options, IConfiguration configuration, Func<string, string?> environment)
    {
        var listed = options.Warmup.Requests;
        if (listed.Count == 0)
        {
            string path = options.WarmupPath ?? GracefulRestartOptions.DefaultWarmupPath;
            return path.Length == 0
                ? []
                : [new WarmupRequest($"{GracefulRestartOptions.SectionName}:{nameof(options.WarmupPath)}", "GET", path, [], null, WarmupPathRepeat)];
        }

        var requests = new List<WarmupRequest>(listed.Count);
        for (int i = 0; i < listed.Count; i++)
        {
            var request = listed[i];
            string key = KeyOf(i);
            var headers = new List<KeyValuePair<string, string>>(request.Headers.Count);
            foreach (var (name, template) in request.Headers)
            {
                var (value, error) = HeaderTemplate.Resolve(template, configuration, environment);
                if (error is not null)
                {
                    throw new WarmupFailedException($"{key}:Headers:{name}: {error}");
                }

                headers.Add(new(name, value!));
            }

            requests.Add(new WarmupRequest(key, request.Method.ToUpperInvariant(), request.Path, headers,
                StatusClass.Parse(request.ExpectedStatus), request.Repeat));
        }

        return requests;
    }

    public static string KeyOf(int index) =>
        string.Create(CultureInfo.InvariantCulture, $"{GracefulRestartOptions.SectionName}:Warmup:Requests:{index}");

    // One entry per response to expect.
    public static IReadOnlyList<WarmupRequest> Expand(IReadOnlyList<WarmupRequest> requests) =>
        [.. requests.SelectMany(r => Enumerable.Repeat(r, r.Repeat))];

    public static string? Check(IReadOnlyList<WarmupRequest> expanded, IReadOnlyList<int> statuses)
    {
        for (int i = 0; i < expanded.Count; i++)
        {
            var request = expanded[i];
            if (request.ExpectedClass is not { } expected)
            {
                continue;
            }

            if (i >= statuses.Count)
            {
                return $"{request.Key} ({request.Method} {request.Target}) got no response; expected {expected}xx";
            }

            if (statuses[i] / 100 != expected)
            {
                return $"{request.Key} ({request.Method} {request.Target}) answered {statuses[i]}; expected {expected}xx";
            }
        }

        return null;
    }
}
