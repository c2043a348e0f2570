from sqlalchemy import func, select


def paginate(session, query, page: int, per_page: int, order_by) -> dict:
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(*order_by).limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [dict(r._mapping) for r in rows], "total": total, "page": page, "per_page": per_page}
