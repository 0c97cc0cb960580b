import type { CaseEventType } from '../case/events.ts';
import {
  gbToHub, hubAreaCode, hubDateTime, hubEvaluationChannel, hubProChannel, hubPromiseTime, hubSatisfaction, hubUserProp,
  HUB_PRO_STATUS, HUB_PROMISE_TYPE_WORKING_DAYS,
} from './codes.ts';
import type { CaseContext, DataSet, ExchangeRecord } from './mapping.ts';

/**
 * Per-target mappers: the same GB/T 39046 record becomes rows of the front-end exchange tables
 * (`up_pro_*`, DATETIME columns, A.8 satisfaction) or messages for the 好差评 hub (`yyyy-MM-dd HH:mm:ss`,
 * satisfaction 1 worst … 5 best, 12-digit area codes, 即办/承诺 as 1/2).
 */
export type Target = 'exchange_db' | 'haochaping';
export const targets: readonly Target[] = ['exchange_db', 'haochaping'];

/** Which (target, data set) deliveries an event type needs. The hub gets a service record at acceptance and at the end, and each evaluation. */
export const deliveriesOf = (type: CaseEventType, dataSets: readonly DataSet[]): { target: Target; dataSet: DataSet }[] => {
  const out: { target: Target; dataSet: DataSet }[] = [];
  for (const dataSet of dataSets) {
    if (dataSet !== 'SUPERVISION') out.push({ target: 'exchange_db', dataSet });
    if (dataSet === 'ACCEPTANCE' || dataSet === 'EVALUATION' || (dataSet === 'RESULT' && type !== 'ResultDelivered'))
      out.push({ target: 'haochaping', dataSet });
  }
  return out;
};

// ---- front-end exchange tables ----
export type ExchangeTable = 'up_pro_accept' | 'up_pro_process' | 'up_pro_result' | 'up_pro_special_procedure' | 'up_pro_material';
export type Cell = string | number | null;

export interface ExchangeRow {
  readonly table: ExchangeTable;
  /** row_guid: stable per case and record, so a later event updates the same row */
  readonly rowGuid: string;
  /** the columns this record sets (others keep what an earlier record wrote) */
  readonly columns: Readonly<Record<string, Cell>>;
}

const dt = (gb: string | null): string | null => (gb ? gbToHub(gb) : null);

export const toExchangeRows = (record: ExchangeRecord, ctx: CaseContext): ExchangeRow[] => {
  const guid = (suffix: string) => `${record.caseId}:${suffix}`;
  const item = ctx.item;
  switch (record.dataSet) {
    case 'APPLICATION':
      return [
        {
          table: 'up_pro_accept', rowGuid: guid('accept'),
          columns: {
            project_no: record.caseNumber, catalog_code: item.basicCode ?? null, task_code: record.implementationCode,
            task_handle_item: item.handlingItemCode ?? null, task_name: record.itemName, task_version: null,
            apply_date: dt(record.appliedAt), apply_type: record.channelCode, applyer_type: record.serviceObjectCode,
            applyer_name: record.applicantName, applyer_page_type: record.idTypeCode, applyer_page_code: record.idNumber,
            contact_name: record.contactName, contact_type: record.idTypeCode, contact_code: record.idNumber,
            contact_mobile: record.mobile, legal: record.legalRepresentative, address: record.address, zip_code: null,
            org_code: item.departmentCreditCode ?? null, org_name: item.departmentName, project_type: record.caseTypeCode,
            project_name: record.itemName,
          },
        },
        ...record.materials.map((m, i): ExchangeRow => ({
          table: 'up_pro_material', rowGuid: guid(`material:${i}`),
          columns: {
            project_no: record.caseNumber, material_name: m.name, get_type: m.how, get_num: m.count, material_attach_name: null,
            remark: m.received === '1' ? `已收取 ${dt(m.receivedAt) ?? ''}`.trim() : '未收取',
          },
        })),
      ];
    case 'ACCEPTANCE':
      return [{
        table: 'up_pro_accept', rowGuid: guid('accept'),
        columns: {
          project_no: record.caseNumber, catalog_code: record.basicCode, task_code: record.implementationCode, task_name: record.itemName,
          org_code: record.departmentCreditCode, org_name: record.departmentName, handle_user_name: record.acceptedBy,
          accept_date: dt(record.acceptedAt), accept_doc_no: record.acceptanceDocumentNo, project_type: record.caseTypeCode,
          promise_date: dt(record.promisedAt),
        },
      }];
    case 'PROCESS':
      return [{
        table: 'up_pro_process', rowGuid: guid(record.key),
        columns: {
          project_no: record.caseNumber, event_name: record.action, process_name: record.stepName, handle_user_name: record.handler,
          handle_explain: record.opinion, event_start_time: dt(record.startedAt), event_end_time: dt(record.endedAt),
          remark: `${record.unit}；环节办理状态 ${record.stepStatus}`,
        },
      }];
    case 'SPECIAL_PROCEDURE':
      return [{
        table: 'up_pro_special_procedure', rowGuid: guid(record.key),
        columns: {
          project_no: record.caseNumber, special_type: record.typeCode, special_name: record.typeName, special_time: dt(record.startedAt),
          special_reason: record.reason, applyer_user_name: record.requestedBy, end_time: dt(record.endedAt), result: record.result,
          special_explain: record.opinion, handle_user: record.handler,
        },
      }];
    case 'RESULT':
      return [{
        table: 'up_pro_result', rowGuid: guid('result'),
        columns: {
          project_no: record.caseNumber, result_date: dt(record.completedAt), result_type: record.resultTypeCode,
          result_explain: record.description, result_cetr_name: record.certificateName, result_cetr_no: record.certificateNumber,
          is_delivery_results: record.express, handle_user_name: record.handler,
          remark: record.delivered ? `已送达 ${dt(record.deliveredAt) ?? ''}`.trim() : null,
        },
      }];
    case 'EVALUATION':
      // A.8 direction (1 非常满意) on the result row
      return [{ table: 'up_pro_result', rowGuid: guid('result'), columns: { project_no: record.caseNumber, satisfaction: record.satisfactionCode } }];
    case 'SUPERVISION':
      return [];
    default: {
      const never: never = record;
      return never;
    }
  }
};

// ---- 好差评 hub ----
export interface HubServiceRecord {
  readonly projectNo: string; readonly projectName: string; readonly taskCode: string; readonly taskHandleItem: string;
  readonly taskName: string; readonly taskType: string; readonly areaCode: string; readonly deptCode: string; readonly deptName: string;
  readonly proStatus: number; readonly acceptDate: string; readonly resultDate: string; readonly promiseDay: number;
  readonly promiseType: number; readonly proChannel: number; readonly promiseTime: number; readonly userName: string;
  readonly userProp: number; readonly creditType: string; readonly creditNum: string; readonly mobile: string;
  readonly serviceName: string; readonly serviceNumber: string; readonly serviceTime: string; readonly dataSource: string;
}

export interface HubEvaluation {
  readonly projectNo: string; readonly serviceNumber: string; readonly assessNumber: number; readonly assessTime: string;
  readonly pf: number; readonly satisfaction: number; readonly evalDetail: string; readonly writingEvaluation: string;
}

export type HubMessage =
  | { readonly kind: 'service'; readonly body: HubServiceRecord }
  | { readonly kind: 'evaluation'; readonly body: HubEvaluation };

export const toHubMessages = (record: ExchangeRecord, ctx: CaseContext, dataSource = 'govcase'): HubMessage[] => {
  const item = ctx.item;
  const service = (proStatus: number, serviceTime: string, resultDate: string): HubMessage => ({
    kind: 'service',
    body: {
      projectNo: record.caseNumber, projectName: item.name, taskCode: item.implementationCode ?? item.itemCode,
      taskHandleItem: item.handlingItemCode ?? '', taskName: item.name, taskType: item.itemType, areaCode: hubAreaCode(ctx.regionCode),
      deptCode: item.departmentCreditCode ?? ctx.departmentCode, deptName: item.departmentName, proStatus,
      acceptDate: ctx.acceptedAt ? hubDateTime(ctx.acceptedAt) : '', resultDate,
      promiseDay: ctx.limitDays ?? (ctx.caseType === 'IMMEDIATE' ? 0 : item.promisedLimitDays), promiseType: HUB_PROMISE_TYPE_WORKING_DAYS,
      proChannel: hubProChannel(ctx.channel), promiseTime: hubPromiseTime(ctx.caseType), userName: ctx.applicant?.name ?? '',
      userProp: hubUserProp(ctx.applicantKind), creditType: ctx.idType, creditNum: ctx.applicant?.idNumber ?? '',
      mobile: ctx.applicant?.phone ?? '', serviceName: item.name, serviceNumber: record.caseNumber, serviceTime, dataSource,
    },
  });
  switch (record.dataSet) {
    case 'ACCEPTANCE':
      return [service(HUB_PRO_STATUS.IN_PROGRESS, gbToHub(record.acceptedAt), '')];
    case 'RESULT':
      return [service(HUB_PRO_STATUS.DONE, gbToHub(record.completedAt), gbToHub(record.completedAt))];
    case 'EVALUATION': {
      const satisfaction = hubSatisfaction(record.score);
      return [{
        kind: 'evaluation',
        body: {
          projectNo: record.caseNumber, serviceNumber: record.caseNumber, assessNumber: record.count, assessTime: gbToHub(record.evaluatedAt),
          pf: hubEvaluationChannel(undefinedIfOther(record.channelCode)), satisfaction, evalDetail: record.satisfactionName,
          writingEvaluation: record.comment ?? (satisfaction < 3 ? '（评价人未填写文字评价）' : ''),
        },
      }];
    }
    default:
      return [];
  }
};

const undefinedIfOther = (a5: string) =>
  (({ 1: 'WINDOW', 2: 'PC', 3: 'MOBILE', 4: 'EXPRESS', 9: 'OTHER' }) as const)[a5 as unknown as 1 | 2 | 3 | 4 | 9];
