/*
 * core_selftest.c - in-kernel tests of the ground floor: formatting,
 * strings, the timer interrupt, exceptions that come back, the key
 * decoders and the input queue, the console's screen writes.
 */
#include "kernel/console.h"
#include "kernel/format.h"
#include "kernel/input.h"
#include "kernel/interrupts.h"
#include "kernel/keys.h"
#include "kernel/kstring.h"
#include "kernel/selftest.h"
#include "kernel/timer.h"
#include "kernel/vga.h"
#include "kernel/x86.h"

static void test_format(void)
{
    char buf[64];
    ST_CHECK(ksnprintf(buf, sizeof(buf), "%016llx", 0x100000000ull) == 16);
    ST_CHECK(strcmp(buf, "0000000100000000") == 0);
    ksnprintf(buf, sizeof(buf), "[%-5d|%5s|%c]", -42, "ab", 'z');
    ST_CHECK(strcmp(buf, "[-42  |   ab|z]") == 0);
    ST_CHECK(ksnprintf(buf, 4, "%u", 123456u) == 6 && strcmp(buf, "123") == 0);
}

static void test_strings(void)
{
    char buf[16] = "abcdefgh";
    memmove(buf + 2, buf, 6); /* overlapping, forwards */
    ST_CHECK(memcmp(buf, "ababcdef", 8) == 0);
    memmove(buf, buf + 2, 6); /* overlapping, backwards */
    ST_CHECK(memcmp(buf, "abcdefef", 8) == 0);
    ST_CHECK(strlen("kernel") == 6 && strcmp("a", "b") < 0);
}

static void test_timer_ticks(void)
{
    uint64_t before = timer_ticks();
    /* Bounded by TSC cycles, not ticks: if the timer is dead the loop
     * must still end (about 3e9 cycles is seconds even under TCG). */
    uint64_t start = rdtsc();
    while (timer_ticks() < before + 3 && rdtsc() - start < 3000000000ull)
        sti_hlt();
    ST_CHECK(timer_ticks() >= before + 3);
    ST_CHECK(irq_count(0) >= 3);
}

static void test_expected_traps(void)
{
    trap_expect(VEC_INVALID_OPCODE, 2);
    cpu_ud2();
    ST_CHECK(trap_expect_hits() == 1);
    trap_expect(VEC_BREAKPOINT, 0); /* int3 is a trap: EIP is already past it */
    cpu_int3();
    ST_CHECK(trap_expect_hits() == 1);
}

static void test_key_decoders(void)
{
    struct kbd_decoder kd;
    struct key_event ev;
    kbd_decoder_init(&kd);
    ST_CHECK(!kbd_decode(&kd, 0x2a, &ev));                  /* Shift down */
    ST_CHECK(kbd_decode(&kd, 0x1e, &ev) && ev.ch == 'A');   /* A */
    ST_CHECK(!kbd_decode(&kd, 0xaa, &ev));                  /* Shift up */
    ST_CHECK(!kbd_decode(&kd, 0xe0, &ev));
    ST_CHECK(kbd_decode(&kd, 0x48, &ev) && ev.code == KEY_UP);

    struct serial_decoder sd;
    serial_decoder_init(&sd);
    ST_CHECK(serial_decode(&sd, 'x', &ev) && ev.code == KEY_CHAR && ev.ch == 'x');
    ST_CHECK(serial_decode(&sd, '\r', &ev) && ev.code == KEY_ENTER);
    ST_CHECK(!serial_decode(&sd, '\n', &ev)); /* CR LF is one Enter */
}

static void test_input_queue(void)
{
    struct key_event in = {.code = KEY_F7, .ch = 0, .mods = KMOD_ALT}, out;
    uint32_t flags = irq_save();
    input_push(&in);
    bool got = input_poll(&out);
    irq_restore(flags);
    ST_CHECK(got && out.code == KEY_F7 && out.mods == KMOD_ALT);
}

static void test_console_screen(void)
{
    unsigned row, col;
    console_puts("selftest: screen probe ");
    console_get_cursor(&row, &col);
    kprintf("%s", "OK");
    /* Read back before the new line: at the bottom row it scrolls. */
    uint16_t o = vga_get(row, col), k = vga_get(row, col + 1);
    kprintf("\n");
    ST_CHECK((o & 0xff) == 'O' && (k & 0xff) == 'K');
    ST_CHECK((o >> 8) == console_attr());
}

static const struct selftest core_tests[] = {
    {"format", test_format},
    {"strings", test_strings},
    {"timer-ticks", test_timer_ticks},
    {"expected-traps", test_expected_traps},
    {"key-decoders", test_key_decoders},
    {"input-queue", test_input_queue},
    {"console-screen", test_console_screen},
};

void core_selftests_register(void)
{
    selftest_register(core_tests, ARRAY_SIZE(core_tests));
}
