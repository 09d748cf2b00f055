/* vitae credentials import | list | show | export | remove. */
#include "wallet-cli/store.h"

#include <getopt.h>
#include <string.h>

static const char *issuer_of(const json_t *doc)
{
    const json_t *iss = json_object_get(doc, "issuer");
    if (json_is_string(iss))
        return json_string_value(iss);
    return vt_json_get_str(iss, "id");
}

static const char *name_of(const json_t *doc)
{
    const json_t *sub = json_object_get(doc, "credentialSubject");
    const char *n = vt_json_get_str(vt_json_get_obj(sub, "achievement"), "name");
    return n != NULL ? n : vt_json_get_str(doc, "name");
}

/* The summary of an entry that list and import print. */
static json_t *summary(const json_t *entry)
{
    json_t *doc = store_document(entry);
    json_t *forms = json_array();
    static const char *const names[] = {"json", "jwt", "cose_b64u"};
    static const char *const labels[] = {"json", "jwt", "cose"};
    for (size_t i = 0; i < 3; i++) {
        if (json_object_get(entry, names[i]) != NULL)
            json_array_append_new(forms, json_string(labels[i]));
    }
    const char *name = name_of(doc), *issuer = issuer_of(doc);
    const char *from = vt_json_get_str(doc, "validFrom");
    json_t *s = json_pack("{s:s,s:O,s:o,s:s?,s:s?,s:s?}", "local", vt_json_get_str(entry, "local"),
                          "id", json_object_get(entry, "id"), "forms", forms, "name", name,
                          "issuer", issuer, "validFrom", from);
    json_decref(doc);
    return s;
}

static void print_summary_line(const json_t *s)
{
    const json_t *forms = json_object_get(s, "forms");
    printf("%s  %-28s  %s", vt_json_get_str(s, "local"),
           vt_json_get_str(s, "name") ? vt_json_get_str(s, "name") : "(unnamed)",
           vt_json_get_str(s, "issuer") ? vt_json_get_str(s, "issuer") : "(no issuer)");
    size_t i;
    const json_t *f;
    json_array_foreach(forms, i, f) printf("%s%s", i == 0 ? "  [" : ",", json_string_value(f));
    printf("%s\n", json_array_size(forms) ? "]" : "");
}

static void print_list(const json_t *r)
{
    const json_t *all = json_object_get(r, "credentials");
    if (json_array_size(all) == 0)
        printf("no credentials; add one with 'vitae credentials import FILE'\n");
    size_t i;
    const json_t *s;
    json_array_foreach(all, i, s) print_summary_line(s);
}

static void print_imported(const json_t *r)
{
    printf("%s ", json_is_true(json_object_get(r, "merged")) ? "updated" : "imported");
    print_summary_line(json_object_get(r, "credential"));
}

static void print_show(const json_t *r)
{
    cli_write_json(json_object_get(r, "credential"));
}

static void print_export(const json_t *r)
{
    const json_t *v = json_object_get(r, "credential");
    if (json_is_string(v))
        cli_write(json_string_value(v), json_string_length(v), true);
    else
        cli_write_json(v);
}

static void print_removed(const json_t *r)
{
    printf("removed %s\n", vt_json_get_str(r, "removed"));
}

static int import(struct cli *cli, const char *path)
{
    struct vt_error err;
    struct vt_buf in;
    json_t *entry = NULL;
    bool merged = false;
    enum vt_status st = cli_read_file(path, CRED_DOC_MAX * 3, &in, &err);
    if (st == VT_OK)
        st = store_parse(in.data, in.len, &entry, &err);
    vt_buf_release(&in);
    if (st == VT_OK)
        st = store_put(cli, entry, &merged, &err);
    if (st != VT_OK) {
        json_decref(entry);
        return cli_fail_err(cli, &err);
    }
    cli_set_result(cli, json_pack("{s:o,s:b}", "credential", summary(entry), "merged", merged),
                   print_imported);
    json_decref(entry);
    return EXIT_OK;
}

static int list(struct cli *cli)
{
    struct vt_error err;
    json_t *all = NULL;
    if (store_all(cli, &all, &err) != VT_OK)
        return cli_fail_err(cli, &err);
    json_t *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(all, i, e) json_array_append_new(out, summary(e));
    json_decref(all);
    cli_set_result(cli, json_pack("{s:o}", "credentials", out), print_list);
    return EXIT_OK;
}

static int show_or_export(struct cli *cli, const char *id, const char *format, bool export)
{
    struct vt_error err;
    json_t *entry = NULL;
    if (store_find(cli, id, &entry, &err) != VT_OK)
        return cli_fail_err(cli, &err);
    json_t *v = NULL;
    if (!export || strcmp(format, "json") == 0) {
        v = export ? json_incref(json_object_get(entry, "json")) : store_document(entry);
    } else {
        v = json_incref(json_object_get(entry, strcmp(format, "jwt") == 0 ? "jwt" : "cose_b64u"));
    }
    json_decref(entry);
    if (v == NULL)
        return cli_fail(cli, EXIT_NOINPUT,
                        "credential '%s' was not received in %s form; ask the issuer for it "
                        "(credential.issue with formats [\"%s\"])",
                        id, format, format[0] == 'j' && format[1] == 'w' ? "jwt" : format);
    if (export)
        cli_set_result(cli, json_pack("{s:s,s:o}", "format", format, "credential", v),
                       print_export);
    else
        cli_set_result(cli, json_pack("{s:o}", "credential", v), print_show);
    return EXIT_OK;
}

static int remove_one(struct cli *cli, const char *id)
{
    struct vt_error err;
    json_t *entry = NULL;
    if (store_find(cli, id, &entry, &err) != VT_OK ||
        store_remove(cli, vt_json_get_str(entry, "local"), &err) != VT_OK) {
        json_decref(entry);
        return cli_fail_err(cli, &err);
    }
    cli_set_result(cli, json_pack("{s:s}", "removed", vt_json_get_str(entry, "local")),
                   print_removed);
    json_decref(entry);
    return EXIT_OK;
}

int cmd_credentials(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *format = NULL;
    int c, rc;
    while ((c = getopt_long(argc, argv, "hf:", opts, NULL)) != -1) {
        if ((rc = cli_common_option(cli, c)) != -2) {
            if (rc >= 0)
                return rc;
        } else if (c == 'f') {
            format = optarg;
        }
    }
    if (optind == argc)
        return cli_usage_error(cli, "expected one of import, list, show, export, remove");
    const char *sub = argv[optind++];
    int nargs = argc - optind;
    if (format != NULL && strcmp(sub, "export") != 0)
        return cli_usage_error(cli, "--format applies to 'credentials export' only");
    if (format != NULL && strcmp(format, "json") != 0 && strcmp(format, "jwt") != 0 &&
        strcmp(format, "cose") != 0)
        return cli_usage_error(cli, "unknown format '%s' (json, jwt, cose)", format);
    if (strcmp(sub, "list") == 0)
        return nargs == 0 ? list(cli) : cli_usage_error(cli, "'list' takes no arguments");
    if (nargs != 1)
        return cli_usage_error(cli, "'%s' takes exactly one argument", sub);
    const char *arg = argv[optind];
    if (strcmp(sub, "import") == 0)
        return import(cli, arg);
    if (strcmp(sub, "show") == 0)
        return show_or_export(cli, arg, "json", false);
    if (strcmp(sub, "export") == 0)
        return show_or_export(cli, arg, format != NULL ? format : "json", true);
    if (strcmp(sub, "remove") == 0)
        return remove_one(cli, arg);
    return cli_usage_error(cli, "unknown subcommand '%s' (import, list, show, export, remove)",
                           sub);
}
