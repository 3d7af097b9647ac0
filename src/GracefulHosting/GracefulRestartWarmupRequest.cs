namespace GracefulHosting;

/// <summary>One warm-up request of <see cref="GracefulRestartWarmupOptions.Requests"/>.</summary>
public sealed class GracefulRestartWarmupRequest
{
    /// <summary>The HTTP method, such as <c>GET</c> or <c>POST</c> (sent with an empty body). Default: <c>GET</c>.</summary>
    public string Method { get; set; } = "GET";

    /// <summary>The path and query, such as <c>/todos?page=1</c>; it must start with '/'. Default: empty (must be set).</summary>
    public string Path { get; set; } = "";

    /// <summary>
    /// Headers to send, by name. A value may take parts from elsewhere: <c>${env:NAME}</c> is the
    /// environment variable NAME, <c>${config:Section:Key}</c> the configuration value at that key, and
    /// <c>$$</c> a single '$'; for example <c>Bearer ${env:WARMUP_TOKEN}</c>. A part that is not set
    /// fails the start. Values are never logged. <c>Host</c> defaults to <c>localhost</c>. Default: none.
    /// </summary>
    public IDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The status class the response must have: <c>2xx</c>, <c>3xx</c>, <c>4xx</c> or <c>5xx</c>.
    /// Any other status fails the start with a message naming the request and the status. Default: <c>2xx</c>.
    /// </summary>
    public string ExpectedStatus { get; set; } = "2xx";

    /// <summary>How many times to send the request, from 1 to 100, one after the other on one connection. Default: 1.</summary>
    public int Repeat { get; set; } = 1;
}
