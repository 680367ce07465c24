/* interrupt.c — first SIGINT/SIGTERM while armed: a flag; otherwise: exit 130 (see interrupt.h). */
#include "interrupt.h"

#include <string.h>
#include <unistd.h>

#include "output.h"

volatile sig_atomic_t vkg_interrupted;
static volatile sig_atomic_t g_armed;

static void on_signal(int sig)
{
    (void)sig;
    if (g_armed && !vkg_interrupted) {
        vkg_interrupted = 1;
        return;
    }
    vkg_out_cleanup_signal();
    _exit(VKG_EXIT_INTERRUPTED);
}

void vkg_interrupt_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART; /* the work in progress goes on until it polls the flag */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void vkg_interrupt_arm(int armed) { g_armed = armed; }
