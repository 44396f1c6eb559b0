/*
 * test_viz_input.c - the address input of the views (src/viz/addr_input.c):
 * parsing a typed address, and which keys the input takes, refuses or
 * stops at.
 */
#include <stdint.h>

#include "check.h"
#include "../../src/viz/addr_input.h"

static void test_parse_good(void)
{
    static const struct {
        const char *text;
        uint32_t value;
    } good[] = {
        {"0", 0},           {"0x0", 0},         {"1f", 0x1f},
        {"0x50000000", 0x50000000u},            {"0X50000000", 0x50000000u},
        {"ffffffff", 0xffffffffu},              {"0xDEADbeef", 0xdeadbeefu},
        {"00000001", 1},    {"0x00000001", 1},  {"abc", 0xabc},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint32_t addr = 0x12345678u;
        CHECK(viz_addr_parse(good[i].text, &addr));
        CHECK_EQ_U64(addr, good[i].value);
    }
}

static void test_parse_bad(void)
{
    static const char *const bad[] = {
        "", "0x", "0X", "x1", "123456789", "0x123456789", "5000xyz", "g", " 1", "1 ",
        "0x-1", "-1", "0xx1", "1x", "00x1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint32_t addr = 0x12345678u;
        CHECK(!viz_addr_parse(bad[i], &addr));
        CHECK_EQ_U64(addr, 0x12345678u); /* left alone */
    }
}

/* Feeds the plain characters of s; returns the result of the last one. */
static enum viz_addr_result type(struct viz_addr_input *in, const char *s, const char **why)
{
    enum viz_addr_result r = VIZ_ADDR_EDITING;
    for (; *s; s++) {
        struct key_event k = {KEY_CHAR, *s, 0};
        r = viz_addr_input_key(in, &k, why);
    }
    return r;
}

static enum viz_addr_result press(struct viz_addr_input *in, enum key_code code,
                                  const char **why)
{
    struct key_event k = {(uint8_t)code, 0, 0};
    return viz_addr_input_key(in, &k, why);
}

static void test_typing_and_enter(void)
{
    struct viz_addr_input in;
    const char *why = "not touched";
    viz_addr_input_start(&in);
    CHECK(in.active);
    CHECK_STR_EQ(in.text, "");
    CHECK_EQ_U64(type(&in, "0X5aB", &why), VIZ_ADDR_EDITING);
    CHECK(why == NULL);
    CHECK_STR_EQ(in.text, "0X5aB");
    CHECK_EQ_U64(press(&in, KEY_BACKSPACE, &why), VIZ_ADDR_EDITING);
    CHECK_STR_EQ(in.text, "0X5a");
    CHECK_EQ_U64(press(&in, KEY_ENTER, &why), VIZ_ADDR_ENTER);
    CHECK(!in.active);
    CHECK(why == NULL);
    uint32_t addr;
    CHECK(viz_addr_parse(in.text, &addr));
    CHECK_EQ_U64(addr, 0x5a);

    /* Enter on nothing: the view decides what empty means. */
    viz_addr_input_start(&in);
    CHECK_EQ_U64(press(&in, KEY_ENTER, &why), VIZ_ADDR_ENTER);
    CHECK_STR_EQ(in.text, "");
}

static void test_refused_keys(void)
{
    struct viz_addr_input in;
    const char *why;
    viz_addr_input_start(&in);
    CHECK_EQ_U64(type(&in, "5000xyz", &why), VIZ_ADDR_REFUSED);
    CHECK_STR_EQ(why, "'z' is not a hex digit: type 0-9 or a-f");
    CHECK_STR_EQ(in.text, "5000"); /* x, y and z stayed out */
    CHECK(in.active);

    /* 8 digits, with or without the prefix; the 9th is refused. */
    viz_addr_input_start(&in);
    CHECK_EQ_U64(type(&in, "123456789", &why), VIZ_ADDR_REFUSED);
    CHECK_STR_EQ(why, "an address has at most 8 hex digits");
    CHECK_STR_EQ(in.text, "12345678");
    viz_addr_input_start(&in);
    CHECK_EQ_U64(type(&in, "0x12345678", &why), VIZ_ADDR_EDITING);
    CHECK_EQ_U64(type(&in, "0", &why), VIZ_ADDR_REFUSED);
    CHECK_STR_EQ(in.text, "0x12345678");

    /* A bare 0x: Enter is refused, the input stays open. */
    viz_addr_input_start(&in);
    type(&in, "0x", &why);
    CHECK_EQ_U64(press(&in, KEY_ENTER, &why), VIZ_ADDR_REFUSED);
    CHECK_STR_EQ(why, "type hex digits after 0x, or Backspace");
    CHECK(in.active);

    /* A space is not a digit either (not quoted: it would not show). */
    viz_addr_input_start(&in);
    CHECK_EQ_U64(type(&in, " ", &why), VIZ_ADDR_REFUSED);
    CHECK_STR_EQ(why, "not a hex digit: type 0-9 or a-f");
}

static void test_cancel(void)
{
    struct viz_addr_input in;
    const char *why = "not touched";
    viz_addr_input_start(&in);
    type(&in, "1", &why);
    CHECK_EQ_U64(press(&in, KEY_BACKSPACE, &why), VIZ_ADDR_EDITING);
    CHECK_EQ_U64(press(&in, KEY_BACKSPACE, &why), VIZ_ADDR_CANCELLED);
    CHECK(why == NULL); /* nothing to say */
    CHECK(!in.active);

    viz_addr_input_start(&in);
    type(&in, "12", &why);
    CHECK_EQ_U64(press(&in, KEY_LEFT, &why), VIZ_ADDR_CANCELLED);
    CHECK_STR_EQ(why, "address cancelled by Left");
    CHECK(!in.active);

    viz_addr_input_start(&in);
    struct key_event ctrl_c = {KEY_CHAR, 'c', KMOD_CTRL};
    CHECK_EQ_U64(viz_addr_input_key(&in, &ctrl_c, &why), VIZ_ADDR_CANCELLED);
    CHECK_STR_EQ(why, "address cancelled by Ctrl+c");
    CHECK(!in.active);
}

int main(void)
{
    RUN(test_parse_good);
    RUN(test_parse_bad);
    RUN(test_typing_and_enter);
    RUN(test_refused_keys);
    RUN(test_cancel);
    return check_summary("viz_input");
}
