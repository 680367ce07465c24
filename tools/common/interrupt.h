/* interrupt.h — SIGINT/SIGTERM for tools that must not lose their output.
 *
 *   vkg_interrupt_install();           // at start: a signal exits 130 at once
 *   vkg_interrupt_arm(1);              // long work begins: the first signal only
 *   ... opts.interrupt = &vkg_interrupted; // sets vkg_interrupted, which the work
 *   vkg_interrupt_arm(0);              // polls between steps; a second one exits
 *   if (vkg_interrupted) return 130;   // 130 at once
 *
 * Exiting at once first removes the temporary files of pending outputs
 * (output.h), so an interrupted write leaves the old file as it was. */
#ifndef VKG_INTERRUPT_H
#define VKG_INTERRUPT_H

#include <signal.h>

#define VKG_EXIT_INTERRUPTED 130

extern volatile sig_atomic_t vkg_interrupted;

void vkg_interrupt_install(void);
void vkg_interrupt_arm(int armed);

#endif
