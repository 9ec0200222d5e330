// Peer figure for bench_core: a Boost.Context jump_fcontext round trip
// (there and back), the same pair as libswco's resume+yield.
#include <boost/context/detail/fcontext.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace ctx = boost::context::detail;

static void entry(ctx::transfer_t t)
{
    for (;;)
        t = ctx::jump_fcontext(t.fctx, nullptr);
}

int main()
{
    const std::size_t size = 256 * 1024;
    char *stack = static_cast<char *>(std::malloc(size));
    ctx::fcontext_t c = ctx::make_fcontext(stack + size, size, entry);
    const long n = 10000000;
    auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < n; i++)
        c = ctx::jump_fcontext(c, nullptr).fctx;
    double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("boost jump_fcontext round trip  : %8.1f ns\n", t / n * 1e9);
    return 0;
}
