/*
 * Statement validation, one or more cases per MUST of xAPI Data Part Two (1.0.3) and
 * IEEE 9274.1.1 (2.0). Cases are JSON with ' for " to keep them readable; each names the
 * rule it expects (NULL: the statement is valid). specs/xapi.md §3 maps rules to cases.
 */
#include "api/xapi.h"
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define A "'actor':{'mbox':'mailto:a@example.com'}"
#define V "'verb':{'id':'http://adlnet.gov/expapi/verbs/answered'}"
#define O "'object':{'id':'http://example.com/act/1'}"
#define BASE A "," V "," O

struct vcase {
    const char *name;
    enum xapi_version v;
    const char *json;
    const char *rule; /* NULL: valid */
};

#define V1 XAPI_V1_0_3
#define V2 XAPI_V2_0

static const struct vcase cases[] = {
    /* Statement shape (Data §2.2, §2.4) */
    {"minimal", V1, "{" BASE "}", NULL},
    {"spec simplest", V1,
     "{'id':'fd41c918-b88b-4b20-a0a5-a4c32391aaa0'," BASE
     ",'timestamp':'2015-11-18T12:17:00+00:00'}",
     NULL},
    {"not an object", V1, "[1]", "type.object"},
    {"no actor", V1, "{" V "," O "}", "property.required"},
    {"no verb", V1, "{" A "," O "}", "property.required"},
    {"no object", V1, "{" A "," V "}", "property.required"},
    {"unknown top key", V1, "{" BASE ",'foo':1}", "key.unknown"},
    {"key case Actor", V1, "{'Actor':{'mbox':'mailto:a@example.com'}," V "," O "}", "key.case"},
    {"key case verb.ID", V1, "{" A ",'verb':{'ID':'http://x.org/v'}," O "}", "key.case"},
    {"null top", V1, "{" BASE ",'result':null}", "value.null"},
    {"null nested", V1, "{" A ",'verb':{'id':'http://x.org/v','display':null}," O "}",
     "value.null"},
    {"null in langmap", V1, "{" A ",'verb':{'id':'http://x.org/v','display':{'en':null}}," O "}",
     "value.null"},
    {"null in extensions ok", V1, "{" BASE ",'result':{'extensions':{'http://x.org/e':null}}}",
     NULL},
    {"empty object in extensions ok", V1,
     "{" BASE ",'context':{'extensions':{'http://x.org/e':{}, 'http://x.org/f':''}}}", NULL},
    {"unknown key in extension value ok", V1,
     "{" BASE ",'context':{'extensions':{'http://x.org/e':{'Foo':null}}}}", NULL},
    {"extension key not IRI", V1, "{" BASE ",'result':{'extensions':{'e':1}}}",
     "extensions.key-iri"},
    {"extensions not object", V1, "{" BASE ",'result':{'extensions':[]}}", "type.object"},
    /* id */
    {"id uuid ok upper", V1, "{'id':'FD41C918-B88B-4B20-A0A5-A4C32391AAA0'," BASE "}", NULL},
    {"id not uuid", V1, "{'id':'not-a-uuid'," BASE "}", "uuid.form"},
    {"id no dashes", V1, "{'id':'fd41c918b88b4b20a0a5a4c32391aaa0'," BASE "}", "uuid.form"},
    {"id braces", V1, "{'id':'{fd41c918-b88b-4b20-a0a5-a4c32391aaa0}'," BASE "}", "uuid.form"},
    {"id bad variant", V1, "{'id':'fd41c918-b88b-4b20-c0a5-a4c32391aaa0'," BASE "}", "uuid.form"},
    {"id number", V1, "{'id':12," BASE "}", "type.string"},
    {"id empty", V1, "{'id':''," BASE "}", "uuid.form"},
    /* Actor / Agent / IFI (Data §2.4.2) */
    {"agent objectType", V1,
     "{'actor':{'objectType':'Agent','name':'A','mbox':'mailto:a@example.com'}," V "," O "}", NULL},
    {"agent objectType case", V1,
     "{'actor':{'objectType':'agent','mbox':'mailto:a@x.org'}," V "," O "}", "enum.case"},
    {"agent objectType other", V1,
     "{'actor':{'objectType':'Person','mbox':'mailto:a@x.org'}," V "," O "}", "objecttype.value"},
    {"agent no ifi", V1, "{'actor':{'name':'A'}," V "," O "}", "agent.ifi-count"},
    {"agent two ifis", V1,
     "{'actor':{'mbox':'mailto:a@x.org','openid':'http://a.openid.example.org/'}," V "," O "}",
     "agent.ifi-count"},
    {"mbox without mailto", V1, "{'actor':{'mbox':'a@x.org'}," V "," O "}", "agent.mbox-mailto"},
    {"mbox MAILTO", V1, "{'actor':{'mbox':'MAILTO:a@x.org'}," V "," O "}", "agent.mbox-mailto"},
    {"mbox no at", V1, "{'actor':{'mbox':'mailto:ax.org'}," V "," O "}", "agent.mbox-mailto"},
    {"mbox number", V1, "{'actor':{'mbox':1}," V "," O "}", "type.string"},
    {"sha1sum ok", V1,
     "{'actor':{'mbox_sha1sum':'ebd31e95054c018b10727ccffd2ef2ec3a016ee9'}," V "," O "}", NULL},
    {"sha1sum short", V1, "{'actor':{'mbox_sha1sum':'ebd31e95'}," V "," O "}", "agent.sha1sum-hex"},
    {"sha1sum not hex", V1,
     "{'actor':{'mbox_sha1sum':'zbd31e95054c018b10727ccffd2ef2ec3a016ee9'}," V "," O "}",
     "agent.sha1sum-hex"},
    {"openid ok", V1, "{'actor':{'openid':'http://toby.openid.example.org/'}," V "," O "}", NULL},
    {"openid no scheme", V1, "{'actor':{'openid':'toby.openid.example.org'}," V "," O "}",
     "agent.openid-uri"},
    {"account ok", V1,
     "{'actor':{'account':{'homePage':'http://www.example.com','name':'1625378'}}," V "," O "}",
     NULL},
    {"account no name", V1,
     "{'actor':{'account':{'homePage':'http://www.example.com'}}," V "," O "}",
     "property.required"},
    {"account no homePage", V1, "{'actor':{'account':{'name':'x'}}," V "," O "}",
     "property.required"},
    {"account homePage no scheme", V1,
     "{'actor':{'account':{'homePage':'www.example.com','name':'x'}}," V "," O "}",
     "account.homepage-iri"},
    {"account extra key", V1,
     "{'actor':{'account':{'homePage':'http://x.org','name':'x','id':1}}," V "," O "}",
     "key.unknown"},
    {"account key case", V1,
     "{'actor':{'account':{'homepage':'http://x.org','name':'x'}}," V "," O "}", "key.case"},
    {"agent with member", V1, "{'actor':{'mbox':'mailto:a@x.org','member':[]}," V "," O "}",
     "key.unknown"},
    {"agent name number", V1, "{'actor':{'mbox':'mailto:a@x.org','name':1}," V "," O "}",
     "type.string"},
    {"actor array", V1, "{'actor':[{'mbox':'mailto:a@x.org'}]," V "," O "}", "type.object"},
    /* Groups */
    {"anonymous group", V1,
     "{'actor':{'objectType':'Group','member':[{'mbox':'mailto:a@x.org'}]}," V "," O "}", NULL},
    {"anonymous group no member", V1, "{'actor':{'objectType':'Group','name':'g'}," V "," O "}",
     "group.anonymous-member"},
    {"anonymous group empty member", V1, "{'actor':{'objectType':'Group','member':[]}," V "," O "}",
     "group.anonymous-member"},
    {"identified group", V1,
     "{'actor':{'objectType':'Group','mbox':'mailto:g@x.org','name':'G'}," V "," O "}", NULL},
    {"identified group members", V1,
     "{'actor':{'objectType':'Group','mbox':'mailto:g@x.org','member':[{'openid':'http://o.x/"
     "'}]}," V "," O "}",
     NULL},
    {"group two ifis", V1,
     "{'actor':{'objectType':'Group','mbox':'mailto:g@x.org','openid':'http://g.x/'}," V "," O "}",
     "group.ifi-count"},
    {"group in group", V1,
     "{'actor':{'objectType':'Group','member':[{'objectType':'Group','mbox':'mailto:g@x.org'}]}," V
     "," O "}",
     "group.member-group"},
    {"group member bad", V1,
     "{'actor':{'objectType':'Group','member':[{'name':'nobody'}]}," V "," O "}",
     "agent.ifi-count"},
    {"group member not array", V1,
     "{'actor':{'objectType':'Group','member':{'mbox':'mailto:a@x.org'}}," V "," O "}",
     "type.array"},
    {"group objectType case", V1,
     "{'actor':{'objectType':'group','member':[{'mbox':'mailto:a@x.org'}]}," V "," O "}",
     "enum.case"},
    /* Verb (Data §2.4.3) */
    {"verb display", V1,
     "{" A ",'verb':{'id':'http://x.org/v','display':{'en-US':'did','es':'hizo'}}," O "}", NULL},
    {"verb no id", V1, "{" A ",'verb':{'display':{'en':'x'}}," O "}", "property.required"},
    {"verb id no scheme", V1, "{" A ",'verb':{'id':'adlnet.gov/expapi/verbs/x'}," O "}",
     "verb.id-iri"},
    {"verb id empty", V1, "{" A ",'verb':{'id':''}," O "}", "verb.id-iri"},
    {"verb id space", V1, "{" A ",'verb':{'id':'http://x.org/a b'}," O "}", "verb.id-iri"},
    {"verb extra", V1, "{" A ",'verb':{'id':'http://x.org/v','name':'x'}," O "}", "key.unknown"},
    {"verb display tag bad", V1, "{" A ",'verb':{'id':'http://x.org/v','display':{'e':'x'}}," O "}",
     "langmap.tag"},
    {"verb display not map", V1, "{" A ",'verb':{'id':'http://x.org/v','display':'did'}," O "}",
     "type.object"},
    {"verb display value number", V1,
     "{" A ",'verb':{'id':'http://x.org/v','display':{'en':1}}," O "}", "langmap.value"},
    {"verb string", V1, "{" A ",'verb':'http://x.org/v'," O "}", "type.object"},
    /* Language tags (RFC 5646) */
    {"tag zh-Hant-TW", V1,
     "{" A ",'verb':{'id':'http://x.org/v','display':{'zh-Hant-TW':'x'}}," O "}", NULL},
    {"tag es-419", V1, "{" A ",'verb':{'id':'http://x.org/v','display':{'es-419':'x'}}," O "}",
     NULL},
    {"tag grandfathered", V1,
     "{" A ",'verb':{'id':'http://x.org/v','display':{'i-klingon':'x','en-GB-oed':'y'}}," O "}",
     NULL},
    {"tag private", V1, "{" A ",'verb':{'id':'http://x.org/v','display':{'x-whatever':'x'}}," O "}",
     NULL},
    {"tag und", V1, "{" A ",'verb':{'id':'http://x.org/v','display':{'und':'x'}}," O "}", NULL},
    {"tag extension", V1,
     "{" A ",'verb':{'id':'http://x.org/v','display':{'en-a-bbb-x-a-ccc':'x'}}," O "}", NULL},
    {"tag too long primary", V1,
     "{" A ",'verb':{'id':'http://x.org/v','display':{'abcdefghi':'x'}}," O "}", "langmap.tag"},
    {"tag trailing dash", V1, "{" A ",'verb':{'id':'http://x.org/v','display':{'en-':'x'}}," O "}",
     "langmap.tag"},
    {"tag underscore", V1, "{" A ",'verb':{'id':'http://x.org/v','display':{'en_US':'x'}}," O "}",
     "langmap.tag"},
    {"tag dup singleton", V1,
     "{" A ",'verb':{'id':'http://x.org/v','display':{'en-a-bbb-a-ccc':'x'}}," O "}",
     "langmap.tag"},
    {"tag digits primary", V1, "{" A ",'verb':{'id':'http://x.org/v','display':{'12':'x'}}," O "}",
     "langmap.tag"},
    /* Object: Activity (Data §2.4.4.1) */
    {"activity objectType", V1,
     "{" A "," V ",'object':{'objectType':'Activity','id':'http://x.org/a'}}", NULL},
    {"activity objectType case", V1,
     "{" A "," V ",'object':{'objectType':'activity','id':'http://x.org/a'}}", "enum.case"},
    {"object unknown type", V1,
     "{" A "," V ",'object':{'objectType':'Thing','id':'http://x.org/a'}}", "objecttype.value"},
    {"activity no id", V1, "{" A "," V ",'object':{'definition':{}}}", "property.required"},
    {"activity id relative", V1, "{" A "," V ",'object':{'id':'/act/1'}}", "activity.id-iri"},
    {"activity id no scheme", V1, "{" A "," V ",'object':{'id':'example.com/act'}}",
     "activity.id-iri"},
    {"activity id urn ok", V1, "{" A "," V ",'object':{'id':'urn:vitae:item:7'}}", NULL},
    {"activity id unicode ok", V1, "{" A "," V ",'object':{'id':'http://example.com/فعل/خواندن'}}",
     NULL},
    {"activity extra", V1, "{" A "," V ",'object':{'id':'http://x.org/a','name':'x'}}",
     "key.unknown"},
    {"definition full", V1,
     "{" A "," V
     ",'object':{'id':'http://x.org/a','definition':{'name':{'en':'n'},'description':{'en':'d'},"
     "'type':'http://adlnet.gov/expapi/activities/meeting','moreInfo':'http://x.org/m',"
     "'extensions':{'http://x.org/e':1}}}}",
     NULL},
    {"definition type no scheme", V1,
     "{" A "," V ",'object':{'id':'http://x.org/a','definition':{'type':'meeting'}}}",
     "activity.type-iri"},
    {"definition moreInfo no scheme", V1,
     "{" A "," V ",'object':{'id':'http://x.org/a','definition':{'moreInfo':'x.org/m'}}}",
     "activity.moreinfo-iri"},
    {"definition name not map", V1,
     "{" A "," V ",'object':{'id':'http://x.org/a','definition':{'name':'n'}}}", "type.object"},
    {"definition extra", V1,
     "{" A "," V ",'object':{'id':'http://x.org/a','definition':{'title':'n'}}}", "key.unknown"},
    {"interaction choice", V1,
     "{" A "," V ",'object':{'id':'http://x.org/a','definition':{'interactionType':'choice',"
     "'correctResponsesPattern':['golf[,]tetris'],'choices':[{'id':'golf','description':{'en-US':"
     "'Golf'}},{'id':'tetris'}]}}}",
     NULL},
    {"interaction matching", V1,
     "{" A "," V ",'object':{'id':'http://x.org/a','definition':{'interactionType':'matching',"
     "'source':[{'id':'ben'}],'target':[{'id':'1'}],'correctResponsesPattern':['ben[.]1']}}}",
     NULL},
    {"interaction likert", V1,
     "{" A "," V
     ",'object':{'id':'http://x.org/a','definition':{'interactionType':'likert','scale':[{'id':"
     "'l0'}]}}}",
     NULL},
    {"interaction performance", V1,
     "{" A "," V
     ",'object':{'id':'http://x.org/a','definition':{'interactionType':'performance','steps':[{"
     "'id':'pong'}]}}}",
     NULL},
    {"interaction sequencing", V1,
     "{" A "," V
     ",'object':{'id':'http://x.org/a','definition':{'interactionType':'sequencing','choices':[{"
     "'id':'tim'}]}}}",
     NULL},
    {"interaction empty crp ok", V1,
     "{" A "," V ",'object':{'id':'http://x.org/a','definition':{'interactionType':'numeric',"
     "'correctResponsesPattern':[]}}}",
     NULL},
    {"interactionType bad", V1,
     "{" A "," V ",'object':{'id':'http://x.org/a','definition':{'interactionType':'essay'}}}",
     "activity.interaction-type"},
    {"interactionType case", V1,
     "{" A "," V ",'object':{'id':'http://x.org/a','definition':{'interactionType':'Choice'}}}",
     "enum.case"},
    {"choices without interactionType", V1,
     "{" A "," V ",'object':{'id':'http://x.org/a','definition':{'choices':[{'id':'a'}]}}}",
     "activity.interaction-without-type"},
    {"crp without interactionType", V1,
     "{" A "," V
     ",'object':{'id':'http://x.org/a','definition':{'correctResponsesPattern':['a']}}}",
     "activity.interaction-without-type"},
    {"scale on choice", V1,
     "{" A "," V
     ",'object':{'id':'http://x.org/a','definition':{'interactionType':'choice','scale':[{'id':"
     "'a'}]}}}",
     "activity.components-type"},
    {"choices on true-false", V1,
     "{" A "," V
     ",'object':{'id':'http://x.org/a','definition':{'interactionType':'true-false','choices':[{"
     "'id':'a'}]}}}",
     "activity.components-type"},
    {"component ids repeat", V1,
     "{" A "," V
     ",'object':{'id':'http://x.org/a','definition':{'interactionType':'choice','choices':[{'id':"
     "'a'},{'id':'a'}]}}}",
     "activity.component-id-distinct"},
    {"component no id", V1,
     "{" A "," V
     ",'object':{'id':'http://x.org/a','definition':{'interactionType':'choice','choices':[{"
     "'description':{'en':'x'}}]}}}",
     "property.required"},
    {"crp not strings", V1,
     "{" A "," V ",'object':{'id':'http://x.org/a','definition':{'interactionType':'choice',"
     "'correctResponsesPattern':[1]}}}",
     "type.string"},
    /* Object: Agent / Group (Data §2.4.4.2) */
    {"object agent", V1, "{" A "," V ",'object':{'objectType':'Agent','mbox':'mailto:b@x.org'}}",
     NULL},
    {"object agent needs objectType", V1, "{" A "," V ",'object':{'mbox':'mailto:b@x.org'}}",
     "key.unknown"},
    {"object group", V1,
     "{" A "," V ",'object':{'objectType':'Group','member':[{'mbox':'mailto:b@x.org'}]}}", NULL},
    /* StatementRef (Data §2.4.4.3) */
    {"statementref", V1,
     "{" A "," V
     ",'object':{'objectType':'StatementRef','id':'8f87ccde-bb56-4c2e-ab83-44982ef22df0'}}",
     NULL},
    {"statementref bad id", V1,
     "{" A "," V ",'object':{'objectType':'StatementRef','id':'http://x.org/s'}}", "uuid.form"},
    {"statementref no id", V1, "{" A "," V ",'object':{'objectType':'StatementRef'}}",
     "property.required"},
    {"statementref extra", V1,
     "{" A "," V
     ",'object':{'objectType':'StatementRef','id':'8f87ccde-bb56-4c2e-ab83-44982ef22df0',"
     "'definition':{}}}",
     "key.unknown"},
    {"statementref case", V1,
     "{" A "," V
     ",'object':{'objectType':'statementref','id':'8f87ccde-bb56-4c2e-ab83-44982ef22df0'}}",
     "enum.case"},
    /* SubStatement */
    {"substatement", V1,
     "{" A "," V ",'object':{'objectType':'SubStatement'," A "," V "," O
     ",'timestamp':'2999-01-01T00:00:00Z'}}",
     NULL},
    {"substatement with id", V1,
     "{" A "," V
     ",'object':{'objectType':'SubStatement','id':'8f87ccde-bb56-4c2e-ab83-44982ef22df0'," A "," V
     "," O "}}",
     "substatement.forbidden"},
    {"substatement with stored", V1,
     "{" A "," V ",'object':{'objectType':'SubStatement','stored':'2013-05-18T05:32:34Z'," A "," V
     "," O "}}",
     "substatement.forbidden"},
    {"substatement with version", V1,
     "{" A "," V ",'object':{'objectType':'SubStatement','version':'1.0.0'," A "," V "," O "}}",
     "substatement.forbidden"},
    {"substatement with authority", V1,
     "{" A "," V ",'object':{'objectType':'SubStatement','authority':{'mbox':'mailto:x@x.org'}," A
     "," V "," O "}}",
     "substatement.forbidden"},
    {"substatement nested", V1,
     "{" A "," V ",'object':{'objectType':'SubStatement'," A "," V
     ",'object':{'objectType':'SubStatement'," A "," V "," O "}}}",
     "substatement.nested"},
    {"substatement invalid inside", V1,
     "{" A "," V ",'object':{'objectType':'SubStatement','actor':{'name':'x'}," V "," O "}}",
     "agent.ifi-count"},
    {"substatement missing verb", V1,
     "{" A "," V ",'object':{'objectType':'SubStatement'," A "," O "}}", "property.required"},
    {"substatement object ref", V1,
     "{" A "," V ",'object':{'objectType':'SubStatement'," A "," V
     ",'object':{'objectType':'StatementRef','id':'9e13cefd-53d3-4eac-b5ed-2cf6693903bb'}}}",
     NULL},
    /* Voiding (Data §2.3.2) */
    {"voiding", V1,
     "{" A ",'verb':{'id':'http://adlnet.gov/expapi/verbs/voided'},'object':{'objectType':"
     "'StatementRef','id':'e05aa883-acaf-40ad-bf54-02c8ce485fb0'}}",
     NULL},
    {"voiding activity", V1, "{" A ",'verb':{'id':'http://adlnet.gov/expapi/verbs/voided'}," O "}",
     "voiding.object-statementref"},
    /* Result (Data §2.4.5) */
    {"result full", V1,
     "{" BASE ",'result':{'score':{'scaled':0.95,'raw':95,'min':0,'max':100},'success':true,"
     "'completion':true,'response':'x','duration':'PT1234S'}}",
     NULL},
    {"scaled above 1", V1, "{" BASE ",'result':{'score':{'scaled':1.01}}}", "score.scaled-range"},
    {"scaled below -1", V1, "{" BASE ",'result':{'score':{'scaled':-1.5}}}", "score.scaled-range"},
    {"scaled -1 ok", V1, "{" BASE ",'result':{'score':{'scaled':-1}}}", NULL},
    {"scaled string", V1, "{" BASE ",'result':{'score':{'scaled':'0.5'}}}", "type.number"},
    {"min equals max", V1, "{" BASE ",'result':{'score':{'min':5,'max':5}}}", "score.min-max"},
    {"min above max", V1, "{" BASE ",'result':{'score':{'min':6,'max':5}}}", "score.min-max"},
    {"raw below min", V1, "{" BASE ",'result':{'score':{'raw':1,'min':2,'max':5}}}",
     "score.raw-range"},
    {"raw above max", V1, "{" BASE ",'result':{'score':{'raw':6,'max':5}}}", "score.raw-range"},
    {"raw alone ok", V1, "{" BASE ",'result':{'score':{'raw':-600}}}", NULL},
    {"score extra", V1, "{" BASE ",'result':{'score':{'percent':5}}}", "key.unknown"},
    {"success string", V1, "{" BASE ",'result':{'success':'true'}}", "type.boolean"},
    {"completion number", V1, "{" BASE ",'result':{'completion':1}}", "type.boolean"},
    {"response number", V1, "{" BASE ",'result':{'response':1}}", "type.string"},
    {"result extra", V1, "{" BASE ",'result':{'grade':'A'}}", "key.unknown"},
    /* Durations (Data §4.6) */
    {"duration P3Y1M29DT4H35M59.14S", V1, "{" BASE ",'result':{'duration':'P3Y1M29DT4H35M59.14S'}}",
     NULL},
    {"duration P4W", V1, "{" BASE ",'result':{'duration':'P4W'}}", NULL},
    {"duration P16559.14S no T", V1, "{" BASE ",'result':{'duration':'P16559.14S'}}",
     "result.duration-iso8601"},
    {"duration PT0S", V1, "{" BASE ",'result':{'duration':'PT0S'}}", NULL},
    {"duration P4W1D", V1, "{" BASE ",'result':{'duration':'P4W1D'}}", "result.duration-iso8601"},
    {"duration alternative", V1, "{" BASE ",'result':{'duration':'P0003-01-29T04:35:59'}}",
     "result.duration-iso8601"},
    {"duration PT", V1, "{" BASE ",'result':{'duration':'PT'}}", "result.duration-iso8601"},
    {"duration P", V1, "{" BASE ",'result':{'duration':'P'}}", "result.duration-iso8601"},
    {"duration seconds", V1, "{" BASE ",'result':{'duration':'1234'}}", "result.duration-iso8601"},
    {"duration order", V1, "{" BASE ",'result':{'duration':'PT5S4M'}}", "result.duration-iso8601"},
    {"duration fraction not last", V1, "{" BASE ",'result':{'duration':'PT1.5H3M'}}",
     "result.duration-iso8601"},
    /* Context (Data §2.4.6) */
    {"context full", V1,
     "{" BASE ",'context':{'registration':'ec531277-b57b-4c15-8d91-d292c5b2b8f7',"
     "'instructor':{'mbox':'mailto:i@x.org'},'team':{'objectType':'Group','mbox':'mailto:t@x.org'},"
     "'contextActivities':{'parent':[{'id':'http://x.org/p'}],'grouping':{'id':'http://x.org/g'},"
     "'category':[],'other':[{'id':'http://x.org/o','objectType':'Activity'}]},"
     "'revision':'1','platform':'web','language':'tlh','statement':{'objectType':'StatementRef',"
     "'id':'6690e6c9-3ef0-4ed3-8b37-7f3964730bee'},'extensions':{'http://x.org/e':[1]}}}",
     NULL},
    {"registration bad", V1, "{" BASE ",'context':{'registration':'abc'}}", "uuid.form"},
    {"revision with agent object", V1,
     "{" A "," V
     ",'object':{'objectType':'Agent','mbox':'mailto:b@x.org'},'context':{'revision':'1'}}",
     "context.revision-activity"},
    {"platform with statementref", V1,
     "{" A "," V
     ",'object':{'objectType':'StatementRef','id':'8f87ccde-bb56-4c2e-ab83-44982ef22df0'},"
     "'context':{'platform':'web'}}",
     "context.platform-activity"},
    {"revision with substatement", V1,
     "{" A "," V ",'object':{'objectType':'SubStatement'," A "," V "," O
     "},'context':{'revision':'1'}}",
     "context.revision-activity"},
    {"revision number", V1, "{" BASE ",'context':{'revision':1}}", "type.string"},
    {"contextActivities bad key", V1,
     "{" BASE ",'context':{'contextActivities':{'sibling':[{'id':'http://x.org/p'}]}}}",
     "key.unknown"},
    {"contextActivities key case", V1,
     "{" BASE ",'context':{'contextActivities':{'Parent':[{'id':'http://x.org/p'}]}}}", "key.case"},
    {"contextActivities string", V1,
     "{" BASE ",'context':{'contextActivities':{'parent':'http://x.org/p'}}}",
     "context.activities-form"},
    {"contextActivities bad activity", V1,
     "{" BASE ",'context':{'contextActivities':{'parent':[{'id':'p'}]}}}", "activity.id-iri"},
    {"team agent", V1, "{" BASE ",'context':{'team':{'mbox':'mailto:t@x.org'}}}",
     "context.team-group"},
    {"instructor bad", V1, "{" BASE ",'context':{'instructor':{'name':'x'}}}", "agent.ifi-count"},
    {"instructor group ok", V1,
     "{" BASE
     ",'context':{'instructor':{'objectType':'Group','member':[{'mbox':'mailto:a@x.org'}]}}}",
     NULL},
    {"language bad", V1, "{" BASE ",'context':{'language':'english language'}}",
     "context.language-tag"},
    {"context statement not ref", V1,
     "{" BASE ",'context':{'statement':{'id':'6690e6c9-3ef0-4ed3-8b37-7f3964730bee'}}}",
     "property.required"},
    {"context extra", V1, "{" BASE ",'context':{'course':'x'}}", "key.unknown"},
    {"contextAgents in 1.0.3", V1,
     "{" BASE ",'context':{'contextAgents':[{'objectType':'contextAgent','agent':{'mbox':"
     "'mailto:a@x.org'}}]}}",
     "key.unknown"},
    /* xAPI 2.0 context agents and groups */
    {"contextAgents 2.0", V2,
     "{" BASE ",'context':{'contextAgents':[{'objectType':'contextAgent','agent':{'mbox':"
     "'mailto:a@x.org'},'relevantTypes':['http://x.org/t']}]}}",
     NULL},
    {"contextAgents objectType missing", V2,
     "{" BASE ",'context':{'contextAgents':[{'agent':{'mbox':'mailto:a@x.org'}}]}}",
     "property.required"},
    {"contextAgents objectType case", V2,
     "{" BASE ",'context':{'contextAgents':[{'objectType':'ContextAgent','agent':{'mbox':"
     "'mailto:a@x.org'}}]}}",
     "enum.case"},
    {"contextAgents no agent", V2,
     "{" BASE ",'context':{'contextAgents':[{'objectType':'contextAgent'}]}}", "property.required"},
    {"contextAgents empty relevantTypes", V2,
     "{" BASE ",'context':{'contextAgents':[{'objectType':'contextAgent','agent':{'mbox':"
     "'mailto:a@x.org'},'relevantTypes':[]}]}}",
     "context.relevant-types"},
    {"contextAgents relevantTypes not IRI", V2,
     "{" BASE ",'context':{'contextAgents':[{'objectType':'contextAgent','agent':{'mbox':"
     "'mailto:a@x.org'},'relevantTypes':['teacher']}]}}",
     "context.relevant-types"},
    {"contextGroups 2.0", V2,
     "{" BASE ",'context':{'contextGroups':[{'objectType':'contextGroup','group':{'objectType':"
     "'Group','mbox':'mailto:g@x.org'}}]}}",
     NULL},
    {"contextGroups with agent", V2,
     "{" BASE ",'context':{'contextGroups':[{'objectType':'contextGroup','group':{'mbox':"
     "'mailto:g@x.org'}}]}}",
     "context.group"},
    {"contextAgents not array", V2,
     "{" BASE ",'context':{'contextAgents':{'objectType':'contextAgent','agent':{'mbox':"
     "'mailto:a@x.org'}}}}",
     "type.array"},
    /* Timestamps (Data §4.5) */
    {"timestamp Z ms", V1, "{" BASE ",'timestamp':'2013-05-18T05:32:34.804Z'}", NULL},
    {"timestamp offset", V1, "{" BASE ",'timestamp':'2013-05-18T05:32:34.804+05:30'}", NULL},
    {"timestamp offset compact", V1, "{" BASE ",'timestamp':'2013-05-18T05:32:34+0530'}", NULL},
    {"timestamp offset hours", V1, "{" BASE ",'timestamp':'2013-05-18T05:32:34+05'}", NULL},
    {"timestamp no zone", V1, "{" BASE ",'timestamp':'2013-05-18T05:32:34'}", NULL},
    {"timestamp micro", V1, "{" BASE ",'timestamp':'2013-05-18T05:32:34.123456Z'}", NULL},
    {"timestamp -00:00", V1, "{" BASE ",'timestamp':'2013-05-18T05:32:34-00:00'}",
     "timestamp.iso8601"},
    {"timestamp -0000", V1, "{" BASE ",'timestamp':'2013-05-18T05:32:34-0000'}",
     "timestamp.iso8601"},
    {"timestamp -00", V1, "{" BASE ",'timestamp':'2013-05-18T05:32:34-00'}", "timestamp.iso8601"},
    {"timestamp space", V1, "{" BASE ",'timestamp':'2013-05-18 05:32:34Z'}", "timestamp.iso8601"},
    {"timestamp date only", V1, "{" BASE ",'timestamp':'2013-05-18'}", "timestamp.iso8601"},
    {"timestamp month 13", V1, "{" BASE ",'timestamp':'2013-13-18T05:32:34Z'}",
     "timestamp.iso8601"},
    {"timestamp feb 30", V1, "{" BASE ",'timestamp':'2013-02-30T05:32:34Z'}", "timestamp.iso8601"},
    {"timestamp feb 29 leap", V1, "{" BASE ",'timestamp':'2012-02-29T05:32:34Z'}", NULL},
    {"timestamp hour 25", V1, "{" BASE ",'timestamp':'2013-05-18T25:32:34Z'}", "timestamp.iso8601"},
    {"timestamp number", V1, "{" BASE ",'timestamp':1368855154}", "type.string"},
    {"timestamp future ok", V1, "{" BASE ",'timestamp':'2999-01-01T00:00:00Z'}", NULL},
    {"timestamp trailing", V1, "{" BASE ",'timestamp':'2013-05-18T05:32:34Zx'}",
     "timestamp.iso8601"},
    {"stored bad", V1, "{" BASE ",'stored':'yesterday'}", "timestamp.iso8601"},
    {"stored ok", V1, "{" BASE ",'stored':'2013-05-18T05:32:34.804+00:00'}", NULL},
    /* version (Data §2.4.10) */
    {"version 1.0.0", V1, "{" BASE ",'version':'1.0.0'}", NULL},
    {"version 1.0.3", V1, "{" BASE ",'version':'1.0.3'}", NULL},
    {"version 1.0", V1, "{" BASE ",'version':'1.0'}", NULL},
    {"version 0.95", V1, "{" BASE ",'version':'0.95'}", "statement.version"},
    {"version 1.1.0", V1, "{" BASE ",'version':'1.1.0'}", "statement.version"},
    {"version 2.0.0 under 1.0.3", V1, "{" BASE ",'version':'2.0.0'}", "statement.version"},
    {"version 2.0.0 under 2.0", V2, "{" BASE ",'version':'2.0.0'}", NULL},
    {"version 1.0.0 under 2.0", V2, "{" BASE ",'version':'1.0.0'}", NULL},
    {"version number", V1, "{" BASE ",'version':1.0}", "type.string"},
    /* authority (Data §2.4.9) */
    {"authority agent", V1,
     "{" BASE ",'authority':{'objectType':'Agent','account':{'homePage':"
     "'http://cloud.scorm.com/','name':'anonymous'}}}",
     NULL},
    {"authority oauth group", V1,
     "{" BASE ",'authority':{'objectType':'Group','member':[{'account':{'homePage':'http://x.org/"
     "OAuth/Token','name':'oauth_consumer_x75db'}},{'mbox':'mailto:bob@example.com'}]}}",
     NULL},
    {"authority group of three", V1,
     "{" BASE ",'authority':{'objectType':'Group','member':[{'mbox':'mailto:a@x.org'},{'mbox':"
     "'mailto:b@x.org'},{'mbox':'mailto:c@x.org'}]}}",
     "authority.form"},
    {"authority bad agent", V1, "{" BASE ",'authority':{'name':'x'}}", "agent.ifi-count"},
    /* Attachments (Data §2.4.11) */
    {"attachment ok", V1,
     "{" BASE ",'attachments':[{'usageType':'http://x.org/cert','display':{'en':'c'},"
     "'contentType':'application/pdf','length':12,'sha2':"
     "'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]}",
     NULL},
    {"attachment fileUrl ok", V1,
     "{" BASE ",'attachments':[{'usageType':'http://x.org/cert','display':{'en':'c'},"
     "'contentType':'text/plain; charset=ascii','length':0,'fileUrl':'http://x.org/f','sha2':"
     "'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]}",
     NULL},
    {"attachment no usageType", V1,
     "{" BASE ",'attachments':[{'display':{'en':'c'},'contentType':'application/pdf','length':12,"
     "'sha2':'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]}",
     "property.required"},
    {"attachment usageType no scheme", V1,
     "{" BASE ",'attachments':[{'usageType':'cert','display':{'en':'c'},'contentType':"
     "'application/pdf','length':12,'sha2':"
     "'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]}",
     "attachment.usagetype-iri"},
    {"attachment no display", V1,
     "{" BASE ",'attachments':[{'usageType':'http://x.org/c','contentType':'application/pdf',"
     "'length':12,'sha2':'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]}",
     "property.required"},
    {"attachment bad content type", V1,
     "{" BASE ",'attachments':[{'usageType':'http://x.org/c','display':{'en':'c'},'contentType':"
     "'pdf','length':12,'sha2':"
     "'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]}",
     "attachment.content-type"},
    {"attachment length string", V1,
     "{" BASE ",'attachments':[{'usageType':'http://x.org/c','display':{'en':'c'},'contentType':"
     "'application/pdf','length':'12','sha2':"
     "'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]}",
     "attachment.length-integer"},
    {"attachment length fraction", V1,
     "{" BASE ",'attachments':[{'usageType':'http://x.org/c','display':{'en':'c'},'contentType':"
     "'application/pdf','length':1.5,'sha2':"
     "'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]}",
     "attachment.length-integer"},
    {"attachment no length", V1,
     "{" BASE ",'attachments':[{'usageType':'http://x.org/c','display':{'en':'c'},'contentType':"
     "'application/"
     "pdf','sha2':'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]}",
     "property.required"},
    {"attachment bad sha2", V1,
     "{" BASE ",'attachments':[{'usageType':'http://x.org/c','display':{'en':'c'},'contentType':"
     "'application/pdf','length':1,'sha2':'abc'}]}",
     "attachment.sha2-hex"},
    {"attachment fileUrl no scheme", V1,
     "{" BASE ",'attachments':[{'usageType':'http://x.org/c','display':{'en':'c'},'contentType':"
     "'application/pdf','length':1,'fileUrl':'f.pdf','sha2':"
     "'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]}",
     "attachment.fileurl-iri"},
    {"attachment extra", V1,
     "{" BASE ",'attachments':[{'usageType':'http://x.org/c','display':{'en':'c'},'contentType':"
     "'application/pdf','length':1,'name':'x','sha2':"
     "'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a'}]}",
     "key.unknown"},
    {"attachments not array", V1, "{" BASE ",'attachments':{}}", "type.array"},
};

static char *quotes(const char *s)
{
    char *d = strdup(s);
    for (char *q = d; *q; q++)
        if (*q == '\'')
            *q = '"';
    return d;
}

static json_t *parse(const char *s)
{
    char *t = quotes(s);
    json_error_t je;
    json_t *j = json_loads(t, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (j == NULL)
        fail_msg("bad test JSON: %s: %s", je.text, t);
    free(t);
    return j;
}

static void test_cases(void **state)
{
    (void)state;
    size_t failures = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct vcase *c = &cases[i];
        json_t *j = parse(c->json);
        struct xapi_problem p;
        enum vt_status st = xapi_statement_validate(j, c->v, &p);
        bool ok =
            c->rule == NULL ? st == VT_OK : st == VT_ERR_INVALID && strcmp(p.rule, c->rule) == 0;
        if (!ok) {
            fprintf(stderr, "case '%s': expected %s, got %s (%s)\n", c->name,
                    c->rule ? c->rule : "valid", st == VT_OK ? "valid" : p.rule,
                    st == VT_OK ? "" : p.msg);
            failures++;
        }
        json_decref(j);
    }
    fprintf(stderr, "%zu validation cases\n", sizeof(cases) / sizeof(cases[0]));
    assert_int_equal(failures, 0);
}

static void test_problem_path(void **state)
{
    (void)state;
    json_t *j = parse("{" A "," V ",'object':{'objectType':'SubStatement'," A
                      ",'verb':{'id':'http://x.org/v','display':{'en_GB':'x'}}," O "}}");
    struct xapi_problem p;
    assert_int_equal(xapi_statement_validate(j, V1, &p), VT_ERR_INVALID);
    assert_string_equal(p.rule, "langmap.tag");
    assert_string_equal(p.path, "object.verb.display.en_GB");
    assert_non_null(strstr(p.msg, "langmap.tag"));
    json_decref(j);
    j = parse("{'actor':{'objectType':'Group','member':[{'mbox':'mailto:a@x.org'},{'mbox':'a'}]}," V
              "," O "}");
    assert_int_equal(xapi_statement_validate(j, V1, &p), VT_ERR_INVALID);
    assert_string_equal(p.path, "actor.member[1].mbox");
    json_decref(j);
    assert_int_equal(xapi_statement_validate(NULL, V1, NULL), VT_ERR_INVALID);
}

static void test_versions(void **state)
{
    (void)state;
    enum xapi_version v;
    assert_true(xapi_version_parse("1.0", &v) && v == XAPI_V1_0_3);
    assert_true(xapi_version_parse("1.0.0", &v) && v == XAPI_V1_0_3);
    assert_true(xapi_version_parse("1.0.3", &v) && v == XAPI_V1_0_3);
    assert_true(xapi_version_parse("2.0.0", &v) && v == XAPI_V2_0);
    assert_true(xapi_version_parse("2.0", &v) && v == XAPI_V2_0);
    assert_false(xapi_version_parse("0.95", &v));
    assert_false(xapi_version_parse("1.1.0", &v));
    assert_false(xapi_version_parse("1.0.", &v));
    assert_false(xapi_version_parse("1.0.03", &v));
    assert_false(xapi_version_parse("", &v));
    assert_false(xapi_version_parse(NULL, &v));
    assert_string_equal(xapi_version_string(XAPI_V2_0), "2.0.0");
}

static void test_timestamps(void **state)
{
    (void)state;
    int64_t ms;
    /* Offsets that carry the instant past 9999 or before 0000 are refused. */
    assert_true(xapi_timestamp_parse("9999-12-31T23:59:59.999Z", &ms));
    assert_false(xapi_timestamp_parse("9999-12-31T23:59:59-12:00", &ms));
    assert_false(xapi_timestamp_parse("0000-01-01T00:00:00+14:00", &ms));
    assert_true(xapi_timestamp_parse("1970-01-01T00:00:00Z", &ms));
    assert_int_equal(ms, 0);
    assert_true(xapi_timestamp_parse("2013-05-18T05:32:34.804+00:00", &ms));
    assert_int_equal(ms, INT64_C(1368855154804));
    assert_true(xapi_timestamp_parse("2013-05-18T07:32:34.804+02:00", &ms));
    assert_int_equal(ms, INT64_C(1368855154804));
    assert_true(xapi_timestamp_parse("2013-05-18T05:32:34.8049Z", &ms));
    assert_int_equal(ms, INT64_C(1368855154804));
    char out[XAPI_TIME_MAX];
    xapi_timestamp_format(INT64_C(1368855154804), out);
    assert_string_equal(out, "2013-05-18T05:32:34.804Z");
    xapi_timestamp_format(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    for (int64_t t = -86400000LL * 800; t < 86400000LL * 40000; t += 86400000LL * 37 + 12345) {
        xapi_timestamp_format(t, out);
        assert_true(xapi_timestamp_parse(out, &ms));
        assert_int_equal(ms, t);
    }
}

static void test_single_formats(void **state)
{
    (void)state;
    assert_true(xapi_is_iri("http://x.org/a?b=c#d"));
    assert_true(xapi_is_iri("urn:uuid:8f87ccde-bb56-4c2e-ab83-44982ef22df0"));
    assert_false(xapi_is_iri("x.org"));
    assert_false(xapi_is_iri(":x"));
    assert_false(xapi_is_iri("1http://x"));
    assert_false(xapi_is_iri("http:"));
    assert_false(xapi_is_iri("http://x.org/%zz"));
    assert_true(xapi_is_uuid("8f87ccde-bb56-4c2e-ab83-44982ef22df0"));
    assert_true(xapi_is_uuid("8F87CCDE-BB56-4C2E-AB83-44982EF22DF0"));
    assert_false(xapi_is_uuid("8f87ccde-bb56-0c2e-ab83-44982ef22df0"));
    assert_false(xapi_is_uuid("8f87ccde-bb56-4c2e-7b83-44982ef22df0"));
    assert_false(xapi_is_uuid("8f87ccde-bb56-4c2e-ab83-44982ef22df"));
    assert_true(xapi_is_media_type("application/octet-stream"));
    assert_true(xapi_is_media_type("text/plain;charset=utf-8"));
    assert_false(xapi_is_media_type("text/"));
    assert_false(xapi_is_media_type("/plain"));
    assert_true(
        xapi_is_sha2_hex("495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"));
    assert_false(xapi_is_sha2_hex("495395e7"));
    assert_true(xapi_is_language_tag("sr-Latn-RS"));
    assert_true(xapi_is_language_tag("de-CH-1996"));
    assert_true(xapi_is_language_tag("zh-yue-HK"));
    assert_true(xapi_is_language_tag("sl-rozaj-biske"));
    assert_false(xapi_is_language_tag(""));
    assert_false(xapi_is_language_tag("a"));
    assert_false(xapi_is_language_tag("en--US"));
    assert_false(xapi_is_language_tag("x-"));
    assert_false(xapi_is_language_tag("en-a"));
}

static void test_agent_param(void **state)
{
    (void)state;
    struct xapi_problem p;
    json_t *j = parse("{'mbox':'mailto:a@x.org'}");
    assert_int_equal(xapi_agent_validate(j, V1, &p), VT_OK);
    json_decref(j);
    j = parse("{'mbox':'a@x.org'}");
    assert_int_equal(xapi_agent_validate(j, V1, &p), VT_ERR_INVALID);
    assert_string_equal(p.path, "agent.mbox");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),          cmocka_unit_test(test_problem_path),
        cmocka_unit_test(test_versions),       cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_single_formats), cmocka_unit_test(test_agent_param),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
